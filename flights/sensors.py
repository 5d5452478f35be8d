"""A small immutable registry of camera sensors keyed by make and model.

``SENSORS.get(make, model)`` returns the profile (a NamedTuple, so callers cannot
change the registry through it); ``SENSORS.register(profile)`` returns a *new*
registry, like morecantile's ``TileMatrixSets``. Keys are compared case-insensitively
with runs of spaces, ``-`` and ``_`` ignored, so ``"Canon PowerShot S110"`` and
``"canon powershot s110"`` match. Pixel pitch is sensor width / native image width.

Values marked ``[U]`` in a comment come from secondary sources (spec sheets quoted
by resellers or forums) and were not checked against the manufacturer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from types import MappingProxyType
from typing import Literal, NamedTuple

SensorKind = Literal["rgb", "thermal", "multispectral"]
ThermalDecoder = Literal["flir", "dji"]


class SensorProfile(NamedTuple):
    """One camera: sensor size, pixel pitch and how to decode thermal data.

    Example:
        ``SensorProfile("DJI", "FC6310", 13.2, 8.8, 2.41, "rgb")``
    """

    make: str
    model: str
    sensor_width_mm: float
    sensor_height_mm: float
    pixel_pitch_um: float
    kind: SensorKind = "rgb"
    thermal_decoder: ThermalDecoder | None = None
    native_width: int | None = None
    native_height: int | None = None
    note: str = ""
    variant: str = ""
    """Which camera of a multi-sensor payload: ``wide``, ``zoom``, ``thermal`` or ``""``."""


_SEPARATORS = re.compile(r"[\s_\-]+")


def _norm(text: str) -> str:
    """``text`` without spaces, ``_`` and ``-``, case-folded."""
    return _SEPARATORS.sub("", text).casefold()


def _rgb(
    make: str, model: str, w_mm: float, h_mm: float, w_px: int, h_px: int, note: str = ""
) -> SensorProfile:
    return SensorProfile(make, model, w_mm, h_mm, round(w_mm / w_px * 1000, 3), "rgb", None, w_px, h_px, note)


def _ir(
    make: str,
    model: str,
    pitch_um: float,
    decoder: ThermalDecoder,
    w_px: int = 640,
    h_px: int = 512,
    note: str = "",
) -> SensorProfile:
    w_mm = round(w_px * pitch_um / 1000, 3)
    h_mm = round(h_px * pitch_um / 1000, 3)
    return SensorProfile(make, model, w_mm, h_mm, pitch_um, "thermal", decoder, w_px, h_px, note, "thermal")


def _wide(make: str, model: str, w_mm: float, h_mm: float, w_px: int, h_px: int, note: str) -> SensorProfile:
    return _rgb(make, model, w_mm, h_mm, w_px, h_px, note)._replace(variant="wide")


_DEFAULTS: tuple[SensorProfile, ...] = (
    # DJI visible cameras
    _rgb("DJI", "FC300S", 6.17, 4.55, 4000, 3000, "Phantom 3 Advanced, 1/2.3in"),
    _rgb("DJI", "FC300X", 6.17, 4.55, 4000, 3000, "Phantom 3 Professional, 1/2.3in"),
    _rgb("DJI", "FC330", 6.17, 4.55, 4000, 3000, "Phantom 4, 1/2.3in"),
    _rgb("DJI", "FC220", 6.17, 4.55, 4000, 3000, "Mavic Pro, 1/2.3in"),
    _rgb("DJI", "FC7303", 6.17, 4.55, 4000, 3000, "Mini 2, 1/2.3in [U]"),
    _rgb("DJI", "FC6310", 13.2, 8.8, 5472, 3648, "Phantom 4 Pro, 1in"),
    _rgb("DJI", "FC6310R", 13.2, 8.8, 5472, 3648, "Phantom 4 RTK, 1in"),
    _rgb("DJI", "FC6310S", 13.2, 8.8, 5472, 3648, "Phantom 4 Pro V2, 1in"),
    _rgb("DJI", "FC6510", 13.2, 8.8, 5472, 3648, "Zenmuse X4S, 1in"),
    _rgb("DJI", "FC6520", 17.3, 13.0, 5280, 3956, "Zenmuse X5S, 4/3in"),
    _rgb("DJI", "FC8482", 9.6, 7.2, 4032, 3024, "Mini 4 Pro, 1/1.3in, 12 MP binned mode [U]"),
    _rgb("DJI", "FC3582", 9.6, 7.2, 4032, 3024, "Mini 3 Pro, 1/1.3in [U]"),
    _rgb("Hasselblad", "L1D-20c", 13.2, 8.8, 5472, 3648, "Mavic 2 Pro, 1in"),
    _rgb("DJI", "L1D-20c", 13.2, 8.8, 5472, 3648, "Mavic 2 Pro, 1in"),
    _rgb("DJI", "ZenmuseP1", 35.9, 24.0, 8192, 5460, "Zenmuse P1, full frame"),
    _rgb("DJI", "M3E", 17.3, 13.0, 5280, 3956, "Mavic 3 Enterprise wide, 4/3in"),
    # DJI thermal cores: radiometric 640x512 (H30T 1280x1024); FLIR-core payloads write FFF.
    _ir("DJI", "FLIR", 17.0, "flir", note="Zenmuse XT2/XT R (FLIR Tau 2 core) report Model 'FLIR'"),
    _ir("DJI", "XT2", 17.0, "flir", note="Zenmuse XT2 640, FLIR Tau 2 core"),
    _ir("DJI", "XTR", 17.0, "flir", note="Zenmuse XT R 640 [U]"),
    _ir("DJI", "XT S", 17.0, "dji", note="Zenmuse XT S [U]"),
    _ir("DJI", "ZH20T", 12.0, "dji", note="Zenmuse H20T"),
    _ir("DJI", "ZH20N", 12.0, "dji", note="Zenmuse H20N [U]"),
    _ir("DJI", "ZH30T", 12.0, "dji", 1280, 1024, note="Zenmuse H30T [U]"),
    _ir("DJI", "H30T", 12.0, "dji", 1280, 1024, note="Zenmuse H30T [U]"),
    _ir("DJI", "MAVIC2-ENTERPRISE-ADVANCED", 12.0, "dji", note="M2EA thermal"),
    _ir("DJI", "M2EA", 12.0, "dji", note="M2EA thermal"),
    _ir("DJI", "M30T", 12.0, "dji", note="M30T thermal (JPEG may be upscaled to 1280x1024)"),
    _ir("DJI", "M3T", 12.0, "dji", note="Mavic 3T thermal"),
    _ir("DJI", "M3TD", 12.0, "dji", note="Matrice 3TD thermal [U]"),
    _ir("DJI", "M4T", 12.0, "dji", note="Matrice 4T thermal [U]"),
    # visible cameras of the same payloads (EXIF model shared with the thermal core)
    _wide("DJI", "ZH20T", 6.17, 4.55, 4056, 3040, "Zenmuse H20T wide, 1/2.3in [U]"),
    _wide("DJI", "M30T", 6.4, 4.8, 4000, 3000, "M30T wide, 1/2in [U]"),
    _wide("DJI", "M3T", 6.4, 4.8, 8000, 6000, "Mavic 3T wide, 1/2in 48 MP [U]"),
    # FLIR
    _ir("FLIR", "Duo Pro R", 17.0, "flir", note="FLIR Duo Pro R 640"),
    _ir("FLIR Systems", "Duo Pro R", 17.0, "flir", note="FLIR Duo Pro R 640"),
    _ir("FLIR", "Vue Pro R 640", 17.0, "flir", note="[U]"),
    # Compact and phone cameras flown on fixed wings and kites
    _rgb("Canon", "Canon PowerShot S110", 7.44, 5.58, 4000, 3000, "1/1.7in; senseFly eBee"),
    _rgb("Canon", "Canon PowerShot ELPH 300 HS", 6.17, 4.55, 4000, 3000, "1/2.3in; senseFly Swinglet [U]"),
    _rgb("Canon", "Canon PowerShot SX260 HS", 6.17, 4.55, 4000, 3000, "1/2.3in"),
    _rgb("Canon", "Canon EOS DIGITAL REBEL XSi", 22.2, 14.8, 4272, 2848, "EOS 450D, APS-C"),
    _rgb("Apple", "iPhone 4S", 4.54, 3.42, 3264, 2448, "1/3.2in, 1.4 um [U]"),
    _rgb("senseFly", "S.O.D.A.", 13.2, 8.8, 5472, 3648, "1in"),
    _rgb("senseFly", "S.O.D.A. 3D", 13.2, 8.8, 5472, 3648, "1in"),
    _rgb("senseFly", "Aeria X", 23.5, 15.6, 6000, 4000, "APS-C [U]"),
    SensorProfile("MicaSense", "RedEdge-M", 4.8, 3.6, 3.75, "multispectral", None, 1280, 960),
)


class SensorRegistry:
    """Immutable mapping of (make, model, variant) to :class:`SensorProfile`.

    Multi-sensor payloads (Zenmuse H20T, M30T, Mavic 3T) write the same EXIF model in
    their wide, zoom and thermal frames; their profiles differ by ``variant`` and
    :meth:`get` picks one from XMP ``ImageSource`` or, failing that, the image width.
    """

    __slots__ = ("_by_camera", "_found", "_profiles")

    def __init__(self, profiles: Iterable[SensorProfile] = ()) -> None:
        #: answers of :meth:`get` (the registry never changes): a delivery asks the same few each frame
        self._found: dict[tuple[str, str, str | None, int | None], tuple[SensorProfile | None]] = {}
        table = {_key(p): p for p in profiles}
        self._profiles = MappingProxyType(table)
        by_camera: dict[tuple[str, str], tuple[SensorProfile, ...]] = {}
        for (mk, md, _), p in table.items():
            by_camera[(mk, md)] = (*by_camera.get((mk, md), ()), p)
        self._by_camera = MappingProxyType(by_camera)

    def get(
        self,
        make: str | None,
        model: str | None,
        *,
        image_source: str | None = None,
        width: int | None = None,
    ) -> SensorProfile | None:
        """The profile for a camera, or None when unknown or ambiguous.

        Models are also tried with the make stripped from their start
        (``"Canon PowerShot S110"`` vs ``"PowerShot S110"``). Profiles are immutable
        NamedTuples, so the registry cannot be changed through what it returns.

        Args:
            make: EXIF Make.
            model: EXIF Model.
            image_source: XMP ``drone-dji:ImageSource`` (``WideCamera``, ``ZoomCamera``,
                ``InfraredCamera``), when known.
            width: Image width in pixels, to tell a thermal frame (native or 2x
                upscaled width) from a visible one when ``image_source`` is absent.
        """
        if not make or not model:
            return None
        question = (make, model, image_source, width)
        known = self._found.get(question)  # (answer,): None is an answer too
        if known is not None:
            return known[0]
        found = self._lookup(make, model, image_source, width)
        if len(make) + len(model) + len(image_source or "") <= 256:  # camera names, not junk
            if len(self._found) >= 256:
                self._found.clear()
            self._found[question] = (found,)
        return found

    def _lookup(
        self, make: str, model: str, image_source: str | None, width: int | None
    ) -> SensorProfile | None:
        """:meth:`get` without the remembered answers."""
        mk, md = _norm(make), _norm(model)
        for candidate in (md, md[len(mk) :] if md.startswith(mk) else None, mk + md):
            found = self._by_camera.get((mk, candidate or ""))
            if found:
                return _pick(found, image_source, width)
        return None

    def register(self, *profiles: SensorProfile, overwrite: bool = False) -> SensorRegistry:
        """A new registry with ``profiles`` added.

        Raises:
            ValueError: A camera is already registered and ``overwrite`` is False.
        """
        for p in profiles:
            if not overwrite and _key(p) in self._profiles:
                raise ValueError(f"sensor {p.make} {p.model} {p.variant} is already registered".rstrip())
        return SensorRegistry((*self._profiles.values(), *profiles))

    def __iter__(self) -> Iterator[SensorProfile]:
        return iter(self._profiles.values())

    def __len__(self) -> int:
        return len(self._profiles)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and len(key) == 2 and self.get(*key) is not None


def _key(p: SensorProfile) -> tuple[str, str, str]:
    return _norm(p.make), _norm(p.model), _norm(p.variant)


def _pick(
    found: tuple[SensorProfile, ...], image_source: str | None, width: int | None
) -> SensorProfile | None:
    source = _norm(image_source or "")
    if source:
        if source.startswith(("infrared", "thermal")):
            return _first([p for p in found if p.kind == "thermal"])
        visible = [p for p in found if p.kind != "thermal"]
        named = [p for p in visible if p.variant and source.startswith(_norm(p.variant))]
        # a camera of the payload that is not registered (e.g. the zoom) stays unknown
        return _first(named) or _first([p for p in visible if not p.variant])
    if width:
        fits = [p for p in found if p.kind != "thermal" or width in _thermal_widths(p)]
        thermal = [p for p in fits if p.kind == "thermal"]
        visible = [p for p in fits if p.variant in ("", "wide")]
        return _first(thermal) or _first(visible) or _first(fits)
    return found[0] if len(found) == 1 else None


def _first(profiles: list[SensorProfile]) -> SensorProfile | None:
    return profiles[0] if profiles else None


def _thermal_widths(p: SensorProfile) -> tuple[int, ...]:
    return (p.native_width, 2 * p.native_width) if p.native_width else ()


SENSORS = SensorRegistry(_DEFAULTS)
"""The built-in registry."""
