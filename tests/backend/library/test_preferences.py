"""GET/PUT /library/preferences: the currency of filament costs, chosen by an admin for all."""

import pytest
from fastapi.testclient import TestClient

URL = "/api/v1/library/preferences"


def test_an_admin_sets_the_currency_for_everyone(admin_client: TestClient, member_client: TestClient) -> None:
    assert member_client.get(URL).json() == {"currency": None}  # bare numbers until chosen
    assert member_client.put(URL, json={"currency": "EUR"}).status_code == 403
    saved = admin_client.put(URL, json={"currency": "EUR"})
    assert saved.status_code == 200 and saved.json() == {"currency": "EUR"}
    assert member_client.get(URL).json() == {"currency": "EUR"}
    assert admin_client.put(URL, json={"currency": None}).json() == {"currency": None}
    assert member_client.get(URL).json() == {"currency": None}


@pytest.mark.parametrize("bad", ["euro", "eur", "€", "EURO", "", 5, ["EUR"]])
def test_a_currency_is_a_three_letter_code(admin_client: TestClient, bad: object) -> None:
    answer = admin_client.put(URL, json={"currency": bad})
    assert answer.status_code == 422 and answer.json()["code"] == "validation_error"
    assert "currency" in answer.json()["detail"]


def test_anonymous_is_refused(app_client: TestClient) -> None:
    assert app_client.get(URL).status_code == 401
