"""CircuitPython ``boot.py``: enable the USB CDC data channel the firmware streams on (``usb_cdc.data``)."""

import usb_cdc  # type: ignore[import-not-found]  # CircuitPython only

usb_cdc.enable(console=True, data=True)
