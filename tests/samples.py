"""Named lists of real sample files in the shared data folder (paths relative to it)."""

FLIR_RADIOMETRIC = [
    "thermal_parser/images/FLIR.jpg",
    "thermal_parser/images/FLIR_AX8.jpg",
    "thermal_parser/images/FLIR_B60.jpg",
    "thermal_parser/images/FLIR_E40.jpg",
    "thermal_parser/images/FLIR_T640.jpg",
    "thermal_parser/images/DJI_XT2.jpg",
    "thermal_parser/images/DJI_XTR.jpg",
    "flirpy/test/test_data/frame_000000.fff",
    "flirpy/test/test_data/frame_000000_le.fff",
    "thermimage/inst/extdata/IR_2412.jpg",
    "metadata_extractor_images/jpg/FLIR iPhone device.jpg",
]
# parsed like the others; SOURCES.md: probably not radiometric, so no temperature truth
FLIR_SAMPLES = [*FLIR_RADIOMETRIC, "metadata_extractor_images/jpg/FLIR Vue Pro 640.jpg"]
