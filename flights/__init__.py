"""What pilots deliver: folder scanning, EXIF/XMP/FLIR metadata, control files, the archive.

This is the lowest floor: it imports none of the other dronegis packages. The error
root (:mod:`core.errors`) and atomic file writing (:mod:`core.atomic`) live here
so that every floor above can use them.
"""
