// Live counters between server refreshes: the ringing caller's ring and wait, the talk time, and the
// working time left before an e-mail's deadline (which stands still while the office is closed).

const timers = new WeakMap();

function clock(totalSeconds) {
  const sign = totalSeconds < 0 ? "−" : "";
  let rest = Math.abs(Math.trunc(totalSeconds));
  const hours = Math.trunc(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.trunc(rest / 60);
  const seconds = rest - minutes * 60;
  const mm = String(minutes).padStart(2, "0");
  const ss = String(seconds).padStart(2, "0");
  return hours ? `${sign}${hours}:${mm}:${ss}` : `${sign}${minutes}:${ss}`;
}

function tickCall(panel) {
  const now = Date.now();
  const since = Date.parse(panel.dataset.callSince);
  const answered = panel.dataset.answeredAt ? Date.parse(panel.dataset.answeredAt) : null;
  const cycle = Number(panel.dataset.ringCycleMs) || 5000;
  const waitMs = (answered ?? now) - since;
  for (const field of panel.querySelectorAll("[data-counter]")) {
    if (field.dataset.counter === "ring") field.textContent = String(Math.floor(waitMs / cycle) + 1);
    if (field.dataset.counter === "wait") field.textContent = clock(waitMs / 1000);
    if (field.dataset.counter === "talk" && answered) field.textContent = clock((now - answered) / 1000);
  }
}

function tickDeadline(field) {
  // data-working-left: working seconds left when the page was made; data-open-until: while the office
  // is open (until then the time runs), empty when closed (it stands still until the next refresh).
  const left = Number(field.dataset.workingLeft);
  const rendered = Number(field.dataset.renderedAt);
  const openUntil = field.dataset.openUntil ? Date.parse(field.dataset.openUntil) : null;
  const running = openUntil ? Math.max(0, Math.min(Date.now(), openUntil) - rendered) / 1000 : 0;
  const now = left - running;
  field.textContent = clock(now);
  field.classList.toggle("late", now < 0);
}

export function startCounters(root) {
  const items = [
    ...root.querySelectorAll?.("[data-call-since]") ?? [],
    ...root.querySelectorAll?.("[data-working-left]") ?? [],
  ];
  for (const item of items) {
    if (!item.dataset.renderedAt) item.dataset.renderedAt = String(Date.now());
    if (timers.has(item)) continue;
    const tick = item.dataset.callSince ? () => tickCall(item) : () => tickDeadline(item);
    tick();
    timers.set(item, setInterval(() => (item.isConnected ? tick() : clearInterval(timers.get(item))), 1000));
  }
}
