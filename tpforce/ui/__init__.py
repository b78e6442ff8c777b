"""The UI: PyQt5 and pyqtgraph. It pulls from the core's ring buffer and never touches pyserial."""
