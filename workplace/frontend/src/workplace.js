// The workplace's behaviour: htmx for the live parts, counters that tick between refreshes, the player.
import htmx from "htmx.org";
import { startCounters } from "./counters.js";
import { mountPlayers } from "./player.js";

window.htmx = htmx;

function enhance(root) {
  startCounters(root);
  mountPlayers(root);
}

document.addEventListener("DOMContentLoaded", () => enhance(document));
document.addEventListener("htmx:afterSwap", (event) => enhance(event.target));
