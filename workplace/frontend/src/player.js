// The recording player: a reason first (logged by the server before any audio is served), then the
// waveform with seek, ±10 s and 0.5–2× speed. The audio streams through HTTP Range requests; the
// waveform comes from peaks the server computed, so an hour-long call starts at once.
import WaveSurfer from "wavesurfer.js";

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function requestGrant(box, reason) {
  const response = await fetch(box.dataset.grantUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
    body: JSON.stringify({ reason }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body?.error?.message || response.statusText);
  return body;
}

async function loadPeaks(box) {
  const response = await fetch(box.dataset.peaksUrl, { credentials: "same-origin" });
  if (!response.ok) throw new Error(response.statusText);
  return response.json();
}

function bindControls(box, wave) {
  const status = box.querySelector("[data-player-time]");
  const toggle = box.querySelector("[data-action=toggle]");
  box.querySelector("[data-action=back]").addEventListener("click", () => wave.skip(-10));
  box.querySelector("[data-action=forward]").addEventListener("click", () => wave.skip(10));
  toggle.addEventListener("click", () => wave.playPause());
  box.querySelector("[data-speed]").addEventListener("change", (event) => {
    wave.setPlaybackRate(Number(event.target.value), true);
  });
  wave.on("play", () => { toggle.textContent = toggle.dataset.pauseLabel; toggle.setAttribute("aria-pressed", "true"); });
  wave.on("pause", () => { toggle.textContent = toggle.dataset.playLabel; toggle.setAttribute("aria-pressed", "false"); });
  wave.on("timeupdate", (seconds) => {
    status.textContent = `${seconds.toFixed(1)} / ${wave.getDuration().toFixed(1)} s`;
    box.dataset.position = String(seconds);
  });
  box.addEventListener("keydown", (event) => {
    if (event.target.closest("select, input, textarea")) return;
    if (event.key === "ArrowLeft") wave.skip(-10);
    if (event.key === "ArrowRight") wave.skip(10);
  });
}

async function start(box, reason) {
  const [grant, peaks] = await Promise.all([requestGrant(box, reason), loadPeaks(box)]);
  const media = document.createElement("audio");
  media.preload = "auto";
  media.src = grant.audio_url;
  const wave = WaveSurfer.create({
    container: box.querySelector("[data-waveform]"),
    media,
    peaks: [peaks.peaks],
    duration: peaks.duration,
    height: 96,
    waveColor: "#7a8ca3",
    progressColor: "#0b3d6e",
    cursorColor: "#a0162a",
    dragToSeek: true,
  });
  box.wave = wave;
  bindControls(box, wave);
  box.querySelector("[data-controls]").hidden = false;
  box.querySelector("[data-reason-form]").hidden = true;
  box.dataset.ready = "true";
  await wave.play();
}

export function mountPlayers(root) {
  for (const box of root.querySelectorAll?.("[data-player]") ?? []) {
    if (box.dataset.mounted) continue;
    box.dataset.mounted = "true";
    const form = box.querySelector("[data-reason-form]");
    const error = box.querySelector("[data-player-error]");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      const reason = new FormData(form).get("reason").toString().trim();
      try {
        await start(box, reason);
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
  }
}
