"""The shape of the dialog tree, to tell a saved conversation written by another release.

A saved dialog stack names dialogs by id and waterfall steps by position. When a release adds,
removes or reorders steps or dialogs, an old stack would resume at the wrong step, or name a
dialog that is gone. The shape is a short hash of every dialog's id and class and every
waterfall's steps, kept with the conversation's state: a stack saved under another shape is not
continued but restarted at its journey, which resumes where the organization stands (every
journey reads its progress from the database).
"""

from __future__ import annotations

import hashlib

from botbuilder.dialogs import ComponentDialog, Dialog, WaterfallDialog

__all__ = ["dialog_shape"]


def dialog_shape(dialog: Dialog) -> str:
    """A short fingerprint of ``dialog`` and every dialog inside it."""
    return hashlib.sha256("\n".join(_describe(dialog)).encode()).hexdigest()[:16]


def _describe(dialog: Dialog, path: str = "") -> list[str]:
    here = f"{path}/{dialog.id}:{type(dialog).__name__}"
    lines = [here]
    if isinstance(dialog, WaterfallDialog):
        lines += [f"{here}#{i}:{step.__name__}" for i, step in enumerate(dialog._steps)]
    if isinstance(dialog, ComponentDialog):
        for inner in sorted(dialog._dialogs._dialogs.values(), key=lambda d: str(d.id)):
            lines += _describe(inner, here)
    return lines
