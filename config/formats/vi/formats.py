# Dates are typed day first, as Vietnamese documents write them (31/12/2026); ISO stays accepted
# for what a browser's autofill or a copied value sends. Django's own vi module sets no input format.
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]
