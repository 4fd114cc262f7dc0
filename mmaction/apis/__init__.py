from .checkpoint import extract_state_dict, load_model_checkpoint, read_checkpoint
from .inference import inference_recognizer, init_recognizer

__all__ = ["init_recognizer", "inference_recognizer", "load_model_checkpoint", "extract_state_dict", "read_checkpoint"]
