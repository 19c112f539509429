"""FOI answers: licence counts, departments and cost by financial year, with disclosure control."""

from m365audit.foi.answer import FoiOptions, build_answer
from m365audit.foi.render import FORMATS, render

__all__ = ["FORMATS", "FoiOptions", "build_answer", "render"]
