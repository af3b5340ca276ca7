# The portal asks for dd/mm/yyyy in both languages (the customs documents are Vietnamese): an
# English page must not read 01/02/2026 as the 2nd of January.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]
