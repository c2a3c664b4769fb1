"""Bridge: the few things the widgets need a browser to do, in one small invisible widget.

ipywidgets' HTML widget shows markup but runs no code, and some of what makes a widget feel
like an app can only happen in the browser:

- a scrolling log that follows the newest message, unless the learner scrolled up to read;
- a Copy button that puts text on the clipboard;
- a click on a table's header or row (plain HTML, cheap to update) reaching Python.

So each widget places one `Bridge` (an anywidget) inside itself. Its view finds the widget's
root element (`root`, a CSS selector such as ".ollama-chat") and, inside it:

- keeps every element with the class `follow-newest` scrolled to the bottom while its content
  grows, until the learner scrolls up (scrolling back to the bottom resumes following);
- copies, on a click on an element with `data-copy`, the value of the `textarea.copy-text`
  in the nearest `.copy-scope`, then shows the button's `data-done` label for a moment;
- sends every click on an element with `data-action` to Python as `{action, value}`, where the
  handlers given to `on_action` receive it;
- counts down, every second, the cells with a `data-expires` time (seconds since the epoch),
  so a countdown keeps ticking without a message from the kernel.

It also counts the views on screen (`views`), so a widget can poll its server only while
someone is looking at it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

__all__ = ["Bridge"]

_ESM = r"""
function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    return navigator.clipboard.writeText(text);
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try { document.execCommand("copy"); } finally { area.remove(); }
  return Promise.resolve();
}

function follow(log) {
  // Follow the newest message while the learner is at the bottom; stop once they scroll up.
  let atEnd = true;
  const onScroll = () => {
    atEnd = log.scrollHeight - log.scrollTop - log.clientHeight < 32;
  };
  const stick = () => {
    if (atEnd) log.scrollTop = log.scrollHeight;
  };
  log.addEventListener("scroll", onScroll, { passive: true });
  const mutations = new MutationObserver(stick);
  mutations.observe(log, { childList: true, subtree: true, characterData: true });
  const sizes = new ResizeObserver(stick);
  sizes.observe(log);
  stick();
  return () => {
    log.removeEventListener("scroll", onScroll);
    mutations.disconnect();
    sizes.disconnect();
  };
}

function pad(n) {
  return String(n).padStart(2, "0");
}

function tickCountdowns(root) {
  // Running models' "until" cells count down here, in the browser, every second.
  const now = Date.now() / 1000;
  for (const cell of root.querySelectorAll("[data-expires]")) {
    const left = Math.floor(Number(cell.dataset.expires) - now);
    if (!(left > 0) || left > 315360000) continue;  // unloading, or kept "forever"
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    const text = h ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
    if (cell.textContent !== text) cell.textContent = text;
  }
}

export default {
  render({ model, el }) {
    el.style.display = "none";
    let root = null;
    let timer = null;
    const undo = [];
    const onClick = (event) => {
      const target = event.target.closest("[data-copy], [data-action]");
      if (!target || !root || !root.contains(target) || target.disabled) return;
      if (target.hasAttribute("data-copy")) {
        const scope = target.closest(".copy-scope") || root;
        const source = scope.querySelector("textarea.copy-text");
        const label = target.textContent;
        copyText(source ? source.value : "").then(() => {
          target.textContent = target.dataset.done || label;
          setTimeout(() => { target.textContent = label; }, 1500);
        });
        return;
      }
      event.preventDefault();
      model.send({ action: target.dataset.action, value: target.dataset.value || "" });
    };
    const attach = () => {
      root = el.closest(model.get("root"));
      if (!root) {
        timer = setTimeout(attach, 50);
        return;
      }
      root.addEventListener("click", onClick);
      undo.push(() => root.removeEventListener("click", onClick));
      for (const log of root.querySelectorAll(".follow-newest")) undo.push(follow(log));
      const clock = setInterval(() => tickCountdowns(root), 1000);
      undo.push(() => clearInterval(clock));
      model.send({ action: "_shown", value: "" });
    };
    attach();
    return () => {
      clearTimeout(timer);
      for (const step of undo) step();
      if (root) model.send({ action: "_hidden", value: "" });
    };
  },
};
"""


class Bridge(anywidget.AnyWidget):
    """An invisible helper view: following scroll, Copy buttons, clicks sent to Python."""

    _esm = _ESM
    root = traitlets.Unicode(".ollama-chat").tag(sync=True)

    def __init__(self, root: str, **kwargs: Any) -> None:
        super().__init__(root=root, **kwargs)
        self.views = 0
        self._handlers: list[Callable[[str, str], Any]] = []
        self._view_handlers: list[Callable[[int], Any]] = []
        self.on_msg(self._on_message)

    def on_action(self, handler: Callable[[str, str], Any]) -> None:
        """Call `handler(action, value)` for each click on a `data-action` element."""
        self._handlers.append(handler)

    def on_views(self, handler: Callable[[int], Any]) -> None:
        """Call `handler(views)` when a view appears or goes away."""
        self._view_handlers.append(handler)

    def _on_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        action, value = str(content.get("action", "")), str(content.get("value", ""))
        if action in ("_shown", "_hidden"):
            self.views = max(0, self.views + (1 if action == "_shown" else -1))
            for handler in self._view_handlers:
                handler(self.views)
            return
        for handler in self._handlers:
            handler(action, value)

    def __repr__(self) -> str:
        return "Bridge()"
