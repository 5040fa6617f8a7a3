"""Training the reading model: public question-answering data in, ONNX weights out.

Behind the `train` extra (torch, transformers, scikit-learn). The runtime never imports this
package; it reads only the files written here (`rag/reader/model/`).
"""
