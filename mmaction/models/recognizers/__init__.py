from .recognizer3d import Recognizer3D, count_parameters

__all__ = ["Recognizer3D", "count_parameters"]
