"""Reading an export's receipt, as a client checks that it received every row."""

from urllib.parse import urlsplit

from casualties.exports import RECEIPT_HEADER


def receipt(client, response) -> dict:
    """The receipt an export response names (read its body first: the row count is known at its end)."""
    address = urlsplit(response[RECEIPT_HEADER])
    answer = client.get(address.path)
    assert answer.status_code == 200, answer.content
    return answer.json()


def receipt_row_count(client, response) -> int:
    """The number of data rows the receipt of a completed export states."""
    stated = receipt(client, response)
    assert stated["status"] == "completed", stated
    return stated["row_count"]
