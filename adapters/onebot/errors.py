"""OneBot API answers → data, or Hearth's :class:`TemporaryError` / :class:`PermanentError`.

Success is keyed on ``status`` (``ok``, or ``async`` whose result is unknowable), never on
``retcode`` alone: implementations speak different retcode dialects (1200/1400 in NapCat
and LLOneBot, 200/404 in Lagrange). A refused request (bad params, unknown action) is
permanent; a handler failure may heal. NapCat reports QQ risk control (风控) as a 1200
"Timeout ... sendMsg": that pauses sending to the chat for a while instead of a retry storm.
"""

from __future__ import annotations

from typing import Any

from adapters.base import PermanentError, TemporaryError

REFUSED = {100, 102, 1400, 1401, 1403, 1404, 404}  # bad params, no such data, auth, unknown action
RISK_CONTROL_PAUSE = 300.0  # seconds: a flagged account must slow down, not retry at once


class ActionFailed(Exception):
    """A ``failed`` answer, with the text the implementation gave (never the token)."""

    def __init__(self, action: str, retcode: int | None, text: str) -> None:
        super().__init__(f"{action} failed (retcode {retcode}): {text}"[:400])
        self.action = action
        self.retcode = retcode
        self.text = text


def result(action: str, frame: dict[str, Any]) -> Any:
    """The ``data`` of an answer; raises :class:`ActionFailed` when it failed."""
    status = frame.get("status")
    if status in ("ok", "async"):
        return frame.get("data")
    retcode = frame.get("retcode")
    text = str(frame.get("wording") or frame.get("message") or frame.get("msg") or "no reason given")
    raise ActionFailed(action, retcode if isinstance(retcode, int) else None, text[:300])


def classify(err: BaseException) -> TemporaryError | PermanentError:
    """The Hearth error for a failed call."""
    if isinstance(err, ActionFailed):
        if err.retcode in REFUSED:
            return PermanentError(str(err))
        if err.action.startswith("send_") and "timeout" in err.text.lower():
            return TemporaryError(f"{err} (QQ risk control? sending paused)", retry_after=RISK_CONTROL_PAUSE)
        return TemporaryError(str(err))
    if isinstance(err, TimeoutError):
        return TemporaryError("the bridge did not answer in time")
    if isinstance(err, ConnectionError):
        return TemporaryError(str(err) or "not connected")
    return TemporaryError(f"{type(err).__name__}: {err}"[:400])
