"""The sentence reader: picks the sentence that answers a question, and says how sure it is.

`features` turns (question, candidate sentences) into numbers, `model` holds the learned
weights (a versioned JSON file beside the code, retrained by `python -m rag.reader.train`),
and `answerer` builds the cited answer or the abstention from them.
"""
