"""Django REST framework's own messages, listed so that our catalogue translates them: the
framework ships Vietnamese for only a few, and an API caller who asks for ``Accept-Language: vi``
must not get English ``detail``s or field errors. Nothing calls this module; ``makemessages``
reads it, and at run time the framework's ``gettext`` finds these entries in our catalogue
(``tests/core/test_framework_messages.py`` fails when a new framework message is missing)."""

from __future__ import annotations

from django.utils.translation import gettext_noop

MESSAGES = (
    # rest_framework.exceptions
    gettext_noop("A server error occurred."),
    gettext_noop("Malformed request."),
    gettext_noop("Incorrect authentication credentials."),
    gettext_noop("Authentication credentials were not provided."),
    gettext_noop("Could not satisfy the request Accept header."),
    gettext_noop('Unsupported media type "{media_type}" in request.'),
    gettext_noop("Request was throttled."),
    gettext_noop("Invalid input."),
    # rest_framework.fields, serializers and relations
    gettext_noop("This field may not be null."),
    gettext_noop("Not a valid string."),
    gettext_noop("String value too large."),
    gettext_noop("Must be a valid boolean."),
    gettext_noop("Must be a valid UUID."),
    gettext_noop("A valid integer is required."),
    gettext_noop("A valid biginteger is required."),
    gettext_noop("A valid number is required."),
    gettext_noop("Integer value too large to convert to float"),
    gettext_noop("Ensure this field has at least {min_length} characters."),
    gettext_noop("Ensure this field has no more than {max_length} characters."),
    gettext_noop("Ensure this field has at least {min_length} elements."),
    gettext_noop("Ensure this field has no more than {max_length} elements."),
    gettext_noop("Ensure this value is greater than or equal to {min_value}."),
    gettext_noop("Ensure this value is less than or equal to {max_value}."),
    gettext_noop("Ensure that there are no more than {max_digits} digits in total."),
    gettext_noop("Ensure that there are no more than {max_decimal_places} decimal places."),
    gettext_noop("Ensure that there are no more than {max_whole_digits} digits before the decimal point."),
    gettext_noop("Ensure this filename has at most {max_length} characters (it has {length})."),
    gettext_noop('Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.'),
    gettext_noop('Enter a valid "slug" consisting of Unicode letters, numbers, underscores, or hyphens.'),
    gettext_noop("This value does not match the required pattern."),
    gettext_noop("Datetime has wrong format. Use one of these formats instead: {format}."),
    gettext_noop("Datetime value out of range."),
    gettext_noop('Invalid datetime for the timezone "{timezone}".'),
    gettext_noop("Expected a datetime but got a date."),
    gettext_noop("Expected a date but got a datetime."),
    gettext_noop("Time has wrong format. Use one of these formats instead: {format}."),
    gettext_noop("Duration has wrong format. Use one of these formats instead: {format}."),
    gettext_noop("The number of days must be between {min_days} and {max_days}."),
    gettext_noop('"{input}" is not a valid choice.'),
    gettext_noop('"{input}" is not a valid path choice.'),
    gettext_noop("This selection may not be empty."),
    gettext_noop('Expected a list of items but got type "{input_type}".'),
    gettext_noop('Expected a dictionary of items but got type "{input_type}".'),
    gettext_noop("This dictionary may not be empty."),
    gettext_noop("Invalid data. Expected a dictionary, but got {datatype}."),
    gettext_noop("No filename could be determined."),
    gettext_noop("The submitted data was not a file. Check the encoding type on the form."),
    gettext_noop("Invalid value."),
    gettext_noop('Invalid pk "{pk_value}" - object does not exist.'),
    gettext_noop("Incorrect type. Expected pk value, received {data_type}."),
    gettext_noop("Invalid hyperlink - No URL match."),
    gettext_noop("Invalid hyperlink - Incorrect URL match."),
    gettext_noop("Invalid hyperlink - Object does not exist."),
    gettext_noop("Incorrect type. Expected URL string, received {data_type}."),
    gettext_noop("Object with {slug_name}={value} does not exist."),
)
