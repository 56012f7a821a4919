"""Reports rendered on the server: the excursions CSV and the PDFs per location and per vial."""
