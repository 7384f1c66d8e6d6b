"""What the browser tests of hostile input and offline use watch: every request, dialog, favicon and injected element."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlparse

from tests.browser_support import wait_for_app_idle

FOLIUM_FRAME = 'iframe[title="streamlit_folium.st_folium"]'
# Schemes that never leave the browser.
LOCAL_SCHEMES = ("data:", "blob:", "about:")


@dataclass
class Watch:
    """Every request any frame of a page makes, and every dialog it opens (dismissed at once)."""

    origin: str
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def attach(self, page) -> "Watch":
        """Listen on the page's whole browser context, so the map frames' requests count too."""
        page.context.on("request", lambda r: self.requests.append(r.url))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        return self

    def outside(self) -> list[str]:
        """Requests to anywhere but the app itself."""
        return [u for u in self.requests if not u.startswith(LOCAL_SCHEMES) and not u.startswith(self.origin + "/")
                and u != self.origin]


def favicons(page) -> list[str]:
    """The page's icon links (Streamlit points them at a page's icon; a Material icon meant fonts.gstatic.com)."""
    return page.evaluate("() => [...document.querySelectorAll('link[rel~=icon]')].map(l => l.href)")


def folium_frames(page, timeout: float = 60_000) -> list:
    """Every streamlit-folium frame on the page, once its Leaflet map has drawn its layers."""
    page.wait_for_selector(FOLIUM_FRAME, timeout=timeout)
    frames = [f for f in page.frames if "streamlit_folium" in f.url]
    for f in frames:
        f.wait_for_function("() => window.map && Object.keys(window.map._layers).length > 3", timeout=timeout)
    return frames


# Put every layer on the map (hidden overlays too, and markers a cluster holds), then make each one
# show its tooltip as a hover would: Leaflet's mouseover, propagated to the GeoJSON layer that owns
# a layer-wide tooltip, and openTooltip for one bound to the marker itself. Returns the text of each
# tooltip that opened.
OPEN_EVERY_TOOLTIP = """() => {
    const map = window.map;
    Object.keys(window).map(k => { try { return window[k]; } catch (e) { return null; } })
        .filter(v => v instanceof L.Layer && !(v instanceof L.TileLayer) && !v._map && v !== map)
        .forEach(v => { try { map.addLayer(v); } catch (e) {} });
    const seen = new Set(), leaves = [];
    const walk = l => {
        if (seen.has(l)) return;
        seen.add(l);
        if (l.getLayers) { l.getLayers().forEach(walk); } else { leaves.push(l); }
    };
    Object.values(map._layers).forEach(walk);
    const shown = [];
    for (const l of leaves) {
        const at = l.getLatLng ? l.getLatLng() : (l.getBounds ? l.getBounds().getCenter() : null);
        if (!at) continue;
        if (!l._map) map.addLayer(l);
        l.fire('mouseover', {latlng: at, layerPoint: map.latLngToLayerPoint(at),
                             containerPoint: map.latLngToContainerPoint(at)}, true);
        if (l.getTooltip && l.getTooltip()) l.openTooltip(at);
        document.querySelectorAll('.leaflet-tooltip').forEach(t => shown.push(t.textContent));
        l.fire('mouseout', {latlng: at}, true);
    }
    return shown;
}"""

# Elements a payload would have made: an image, SVG or frame carrying the payload's marks, the
# payload's own script element, or a link or image to the outside host the payloads name.
INJECTED = r"""() => {
    const marked = e => [...e.attributes].some(a => /__xss|127\.0\.0\.9/.test(a.value)) || e.getAttribute('src') === 'x';
    return [...document.querySelectorAll('img, svg, iframe, object, embed, a, image')].filter(marked)
        .concat([...document.querySelectorAll('script')].filter(s => s.textContent.trim().startsWith('window.__xss')))
        .map(e => e.outerHTML.slice(0, 160));
}"""


def injected(page) -> dict[str, list[str]]:
    """Per frame: elements a payload made, and whether a payload's script set window.__xss."""
    out = {}
    for f in page.frames:
        try:
            found = f.evaluate(INJECTED)
            if f.evaluate("() => window.__xss !== undefined"):
                found.append("window.__xss was set")
        except Exception:   # a frame that went away between listing and asking
            continue
        if found:
            out[f.url] = found
    return out


def open_page(page, url: str) -> None:
    """Go to a page of the app and wait until its script has finished."""
    page.goto(url)
    wait_for_app_idle(page, timeout=120_000)
    page.locator("h1").first.wait_for(timeout=60_000)


def outside_or_relative_x(watch: Watch) -> list[str]:
    """Outside requests, and the app-relative 'x' an <img src=x> payload would have fetched."""
    return watch.outside() + [u for u in watch.requests if urlparse(u).path.endswith("/x")]
