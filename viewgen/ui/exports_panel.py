"""The exports panel shown on the Done step and in History: layout only.

Choose marketplace presets and the background behind the product (each preset's own,
pure white, studio grey or any hex colour typed as #RRGGBB; a bad one is refused with
a message and nothing is previewed or offered), preview one preset on one view,
"Download set" (a ZIP with a folder per preset, made by ``viewgen.export.export_set``
when clicked), and the 360° spin: drag or slide to turn it, download it as an animated
WebP, a GIF or an MP4. Offline products turn through the renderer (36 frames); a
provider's product turns through its front, side and back views and says which side
is missing. Widget keys are ``<key>_presets``, ``<key>_background``,
``<key>_background_hex``, ``<key>_preview``, ``<key>_preview_view`` and ``<key>_spin``
(the spin is rendered only once asked for).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import streamlit as st

from viewgen import export
from viewgen.domain import STORED_VIEWS, Approval, ExtractedFeatures, User, ViewType
from viewgen.errors import ViewgenError
from viewgen.presets import (
    DEFAULT_PRESETS,
    PRESETS,
    background_warnings,
    parse_background,
    resolve_presets,
    with_background,
)
from viewgen.ui.spin import show_spin

SPIN_FRAMES = 36
SPIN_SIZE = 320
_LABELS = {p.name: p.label for p in PRESETS}
BACKGROUNDS = {"preset": "As each preset", "white": "Pure white", "studio": "Studio grey",
               "custom": "Custom colour (hex)"}
DEFAULT_HEX = "#F5F5F0"


@st.cache_data(max_entries=64, show_spinner=False)
def _preview(data: bytes, preset: str, view: str, background: str | None) -> tuple[bytes, tuple[int, int]]:
    chosen = with_background(resolve_presets([preset]), background)[0]
    item = export.render_preset(data, chosen, view=ViewType(view))
    return item.data, item.size


def _background(key: str) -> tuple[bool, str | None]:
    """The background chosen (None: each preset's own) and whether it can be used."""
    choice = st.selectbox("Background", list(BACKGROUNDS), format_func=BACKGROUNDS.__getitem__,
                          key=f"{key}_background",
                          help="Behind the product in every preset with an opaque background; "
                               "the transparent cut-out stays transparent, the original as generated.")
    if choice == "preset":
        return True, None
    if choice != "custom":
        return True, choice
    typed = st.text_input("Hex colour", value=DEFAULT_HEX, key=f"{key}_background_hex",
                          placeholder=DEFAULT_HEX, help="Six hex digits: #RRGGBB (#RGB works too).")
    try:
        return True, parse_background(typed)
    except ViewgenError as exc:
        st.error(exc.user_message, icon=":material/palette:")
        return False, None


@st.cache_data(max_entries=8, show_spinner=False)
def _offline_spin(text: str, feedback: tuple[str, ...], seed: int, front: bytes,
                  frames: int, size: int) -> tuple[list[bytes], list[str], str]:
    model = export.offline_model(text, feedback, seed, front)
    if model is None:
        raise ValueError("not an offline product")
    spin = export.spin_from_model(model, frames=frames, size=size)
    return spin.frames, spin.labels, spin.note


def _spin(images: Mapping[ViewType, bytes], model_args: tuple[str, tuple[str, ...], int] | None
          ) -> tuple[list[bytes], list[str], str]:
    front = images.get(ViewType.FRONT)
    if model_args is not None and front is not None:
        text, feedback, seed = model_args
        if export.offline_model(text, feedback, seed, front) is not None:
            return _offline_spin(text, feedback, seed, front, SPIN_FRAMES, SPIN_SIZE)
    spin = export.spin_from_views(images, size=SPIN_SIZE)
    return spin.frames, spin.labels, spin.note


def slug(text: str | None) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", (text or "product").lower()).strip("-")
    return "-".join(words.split("-")[:6]) or "product"


def exports_panel(images: Mapping[ViewType, bytes], *, name: str, key: str,
                  features: ExtractedFeatures | None = None, info: dict | None = None,
                  model_args: tuple[str, tuple[str, ...], int] | None = None) -> None:
    """The panel for one product's views. ``model_args`` (text, feedback, seed) lets an
    offline product spin through its 3D model."""
    views = [v for v in STORED_VIEWS if v in images]  # the hero too, when there is one
    if not views:
        st.info("Exports appear once the views exist.", icon=":material/download:")
        return
    st.markdown("**Marketplace exports**")
    chosen: Sequence[str] = st.multiselect(
        "Presets", [p.name for p in PRESETS], default=list(DEFAULT_PRESETS),
        format_func=lambda n: _LABELS[n], key=f"{key}_presets",
        help="Each preset sets the canvas, background, how much of it the product fills, "
             "the format and the file-size limit.")
    if not chosen:
        st.caption("Choose at least one preset to preview and download.")
    else:
        usable, background = _background(key)
        if usable:
            _preview_and_download(images, views, chosen, background, name=name, key=key,
                                  features=features, info=info)

    if not st.toggle("Show the 360° spin", key=f"{key}_spin",
                     help="Drag the picture or the slider to turn the product."):
        return
    with st.spinner("Rendering the spin…"):
        try:
            frames, labels, note = _spin(images, model_args)
        except ViewgenError as exc:
            st.info(exc.user_message, icon=":material/360:")
            return
    show_spin(frames, labels, note=note)
    one, two, three = st.columns(3)
    one.download_button("WebP", data=lambda: export.spin_webp(frames), on_click="ignore",
                        file_name=f"{name}-spin.webp", mime="image/webp", key=f"{key}_spin_webp",
                        icon=":material/360:", width="stretch")
    two.download_button("GIF", data=lambda: export.spin_gif(frames), on_click="ignore",
                        file_name=f"{name}-spin.gif", mime="image/gif", key=f"{key}_spin_gif",
                        icon=":material/gif_box:", width="stretch")
    three.download_button("MP4", data=lambda: export.spin_mp4(frames), on_click="ignore",
                          file_name=f"{name}-spin.mp4", mime="video/mp4", key=f"{key}_spin_mp4",
                          icon=":material/movie:", width="stretch")


def _preview_and_download(images: Mapping[ViewType, bytes], views: Sequence[ViewType], chosen: Sequence[str],
                          background: str | None, *, name: str, key: str,
                          features: ExtractedFeatures | None, info: dict | None) -> None:
    presets = with_background(resolve_presets(chosen), background)
    for warning in background_warnings(presets):
        st.warning(warning, icon=":material/warning:")
    left, right = st.columns(2)
    shown = left.selectbox("Preview", [p.name for p in presets], format_func=lambda n: _LABELS[n],
                           key=f"{key}_preview")
    view = right.selectbox("View", [v.value for v in views],
                           format_func=lambda v: ViewType(v).label, key=f"{key}_preview_view")
    preset = next(p for p in presets if p.name == shown)
    try:
        data, size = _preview(images[ViewType(view)], shown, view, background)
    except ViewgenError as exc:
        st.error(exc.user_message, icon=":material/error:")
    else:
        st.image(data, caption=f"{preset.label} · {size[0]}×{size[1]} · {len(data) / 1024:.0f} KB",
                 width=320)
        st.caption(preset.describe())

    def bundle() -> bytes:
        return export.export_set(images, chosen, features=features, extra=info or {}, background=background)

    count = len(presets) * len(views)
    st.download_button(f"Download set · {count} images", data=bundle, on_click="ignore",
                       file_name=f"{name}-export.zip", mime="application/zip",
                       key=f"{key}_download_set", icon=":material/folder_zip:", type="primary",
                       width="stretch")


def approval_exports(studio, user: User, approval: Approval, *, key: str,
                     images: Mapping[ViewType, bytes] | None = None) -> None:
    """The panel for a stored product (Done step, History)."""
    images = images if images is not None else studio.view_images(user, approval)
    model_args = None
    if approval.input_text and not approval.reference_key:
        model_args = (approval.input_text, tuple(approval.feedback_history), int(approval.seed))
    exports_panel(images, name=slug(approval.input_text), key=key,
                  features=approval.extracted_features,
                  info={"product": approval.input_text or "Product from a photo",
                        "approval_id": approval.id},
                  model_args=model_args)


__all__ = ["approval_exports", "exports_panel"]
