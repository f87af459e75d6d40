"""Keyboard-only driving: Tab to a control, checking every stop on the way.

Each Tab press must land on an element that shows it has focus (GOV.UK's yellow outline or
shadow; for checkboxes and radios, the ring drawn on the label) and must move forward in the
document: focus never jumps back, so the order a keyboard user meets things is the reading
order. The browser draws focus only for keyboard use, which is what these presses are.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# What the focused element is, where it stands in the document, and whether it looks focused.
_FOCUS = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) {
    return {none: true};
  }
  const index = Array.prototype.indexOf.call(document.getElementsByTagName('*'), el);
  const style = getComputedStyle(el);
  const shown = (s) => s && s.boxShadow && s.boxShadow !== 'none';
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2
    && !/rgba\\(0, 0, 0, 0\\)|transparent/.test(style.outlineColor);
  let ring = false;
  if ((el.type === 'checkbox' || el.type === 'radio') && el.labels && el.labels[0]) {
    ring = shown(getComputedStyle(el.labels[0], '::before'))
      || shown(getComputedStyle(el.labels[0], '::after'));
  }
  const box = el.getBoundingClientRect();
  const name = (el.getAttribute('aria-label') || el.innerText || el.value || el.id || '')
    .trim().replace(/\\s+/g, ' ').slice(0, 60);
  return {
    none: false, index,
    describe: `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}> ${name}`,
    visible: outline || shown(style) || ring,
    sized: el.type === 'checkbox' || el.type === 'radio' || (box.width > 0 && box.height > 0),
    control: ['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(el.tagName)
      && el.type !== 'hidden' && !!el.closest('main form'),
    radio: el.type === 'radio' ? el.name : null,
  };
}"""

# The form controls inside <main> a keyboard user must be able to reach.
_CONTROLS = """() => Array.from(document.querySelectorAll(
    'main form input, main form select, main form textarea, main form button'))
  .filter(el => el.type !== 'hidden' && !el.disabled && el.getClientRects().length > 0
    && !el.closest('details:not([open])'))
  .map(el => ({
    index: Array.prototype.indexOf.call(document.getElementsByTagName('*'), el),
    describe: `<${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}>`,
    radio: el.type === 'radio' ? el.name : null,
  }))"""


@dataclass
class Keyboard:
    page: object
    stops: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def _step(self, key: str, label: str, last_index: int) -> dict:
        self.page.keyboard.press(key)
        state = self.page.evaluate(_FOCUS)
        if state["none"]:
            return state
        self.stops.append(state)
        where = f"{label}: {state['describe']}"
        if not state["visible"]:
            self.problems.append(f"no visible focus on {where}")
        if not state["sized"]:
            self.problems.append(f"focus on an element that takes no space: {where}")
        if key == "Tab" and state["index"] <= last_index:
            self.problems.append(f"focus went backwards to {where}")
        return state

    def tab_to(self, locator, label: str, max_presses: int = 150) -> None:
        """Press Tab until `locator` has focus, checking each stop; fail if it never does."""
        target = locator.element_handle()
        last_index = -1
        wrapped = False
        for _ in range(max_presses):
            state = self._step("Tab", label, last_index)
            if state["none"]:
                # Past the end of the page Tab goes round to the top, as it does for a person
                # whose focus started below the target (a success banner takes focus, say).
                if wrapped:
                    raise AssertionError(f"{label}: Tab went round the page without reaching it")
                wrapped, last_index = True, -1
                continue
            last_index = state["index"]
            if target.evaluate("el => el === document.activeElement"):
                assert not self.problems, "\n".join(self.problems)
                return
        raise AssertionError(f"{label}: not reached after {max_presses} presses of Tab")

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)

    def follow(self, key: str = "Enter") -> None:
        """Press a key that opens a link or submits a form, and wait for the new page."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)

    def tab_through_page(self, label: str, max_presses: int = 250) -> None:
        """Tab from the top to the end of the page; every form control in <main> is reached.

        One radio group is one stop, as browsers make it.
        """
        self.page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
        self.page.evaluate("() => window.scrollTo(0, 0)")
        expected = self.page.evaluate(_CONTROLS)
        start = len(self.stops)
        last_index = -1
        for _ in range(max_presses):
            state = self._step("Tab", label, last_index)
            # The end of the page: focus leaves the document or starts again at the top.
            if state["none"] or state["index"] <= last_index:
                if not state["none"]:
                    self.problems.pop()  # wrapping round is not going backwards
                    self.stops.pop()
                break
            last_index = state["index"]
        reached = {stop["index"] for stop in self.stops[start:]}
        groups_reached = {stop["radio"] for stop in self.stops[start:] if stop["radio"]}
        for control in expected:
            if control["radio"] and control["radio"] in groups_reached:
                continue
            if control["index"] not in reached:
                self.problems.append(f"{label}: never reached by Tab: {control['describe']}")
        assert not self.problems, "\n".join(self.problems)
