"""The interactive 360° spin viewer: a small self-contained HTML/JS component.

``spin_html`` builds the page: every frame is a WebP data URL in its own ``<img>``
stacked in one box, all loaded before the first turn (the box says "Loading" until
they are decoded), and exactly one is visible, so turning never flickers or fetches.
Dragging across the picture turns the product (a full turn per width of the box,
either way round, wrapping), and so does the slider beneath; the frame's label
(``0°``, ``Front`` ...) shows under it. ``show_spin`` puts it on the page with
``st.components.v1.html``. No network, no external scripts.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence

from PIL import Image

VIEWER_SIZE = 360


def frame_urls(frames: Sequence[bytes], *, size: int = VIEWER_SIZE, quality: int = 82) -> list[str]:
    """The frames as WebP data URLs at most ``size`` pixels a side."""
    urls = []
    for data in frames:
        image = Image.open(io.BytesIO(data)).convert("RGB")
        image.thumbnail((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, format="WEBP", quality=quality, method=3)
        urls.append("data:image/webp;base64," + base64.b64encode(out.getvalue()).decode("ascii"))
    return urls


def spin_html(frames: Sequence[bytes], labels: Sequence[str] | None = None, *,
              size: int = VIEWER_SIZE, note: str = "") -> str:
    """A standalone HTML document showing the frames as a draggable spin."""
    urls = frame_urls(frames, size=size)
    names = list(labels) if labels else [f"Frame {i + 1}" for i in range(len(urls))]
    images = "\n".join(
        f'<img class="f" data-i="{i}" alt="{html.escape(names[i])}" src="{url}"'
        f'{"" if i == 0 else " hidden"} draggable="false">'
        for i, url in enumerate(urls))
    last = max(len(urls) - 1, 0)
    note_html = f'<p class="note">{html.escape(note)}</p>' if note else ""
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><style>
body {{ margin: 0; font: 14px system-ui, sans-serif; color: #1c1e22; }}
#stage {{ position: relative; width: {size}px; height: {size}px; cursor: grab; touch-action: none;
          background: #fff; border: 1px solid #e2e0db; border-radius: 12px; overflow: hidden;
          user-select: none; }}
#stage.dragging {{ cursor: grabbing; }}
#stage img {{ position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; }}
#stage img[hidden] {{ display: none; }}
#loading {{ position: absolute; inset: 0; display: flex; align-items: center; justify-content: center;
            background: #fff; color: #70727a; }}
.row {{ display: flex; align-items: center; gap: 10px; width: {size}px; margin-top: 8px; }}
input[type=range] {{ flex: 1; }}
#label {{ min-width: 48px; text-align: right; color: #70727a; }}
.note {{ width: {size}px; color: #70727a; font-size: 13px; margin: 6px 0 0; }}
</style></head><body>
<div id="stage" role="img" aria-label="360 degree spin, drag to turn">
{images}
<div id="loading">Loading the spin…</div>
</div>
<div class="row"><input id="slider" type="range" min="0" max="{last}" step="1" value="0"
 aria-label="Turn the product"><span id="label">{html.escape(names[0]) if names else ""}</span></div>
{note_html}
<script>
(function () {{
  const names = {json.dumps(names)};
  const frames = Array.from(document.querySelectorAll('#stage img.f'));
  const stage = document.getElementById('stage');
  const slider = document.getElementById('slider');
  const label = document.getElementById('label');
  let current = 0;
  function show(i) {{
    const n = frames.length;
    i = ((i % n) + n) % n;
    if (i === current) return;
    frames[i].hidden = false;      // show the new frame before hiding the old: no gap
    frames[current].hidden = true;
    current = i;
    slider.value = String(i);
    label.textContent = names[i];
    stage.dataset.frame = String(i);
  }}
  stage.dataset.frame = '0';
  Promise.all(frames.map(f => f.decode ? f.decode().catch(() => null) : null)).then(() => {{
    document.getElementById('loading').remove();
    stage.dataset.ready = '1';
  }});
  slider.addEventListener('input', () => show(parseInt(slider.value, 10)));
  let startX = null, startFrame = 0;
  stage.addEventListener('pointerdown', e => {{
    startX = e.clientX; startFrame = current;
    stage.setPointerCapture(e.pointerId); stage.classList.add('dragging');
  }});
  stage.addEventListener('pointermove', e => {{
    if (startX === null) return;
    const perFrame = stage.clientWidth / frames.length;
    show(startFrame + Math.round((e.clientX - startX) / perFrame));
  }});
  const stop = () => {{ startX = null; stage.classList.remove('dragging'); }};
  stage.addEventListener('pointerup', stop);
  stage.addEventListener('pointercancel', stop);
}})();
</script></body></html>"""


def show_spin(frames: Sequence[bytes], labels: Sequence[str] | None = None, *, note: str = "",
              size: int = VIEWER_SIZE) -> None:
    """Draw the spin viewer on the page."""
    import streamlit.components.v1 as components

    height = size + 56 + (44 if note else 0)
    components.html(spin_html(frames, labels, size=size, note=note), height=height)


__all__ = ["frame_urls", "show_spin", "spin_html"]
