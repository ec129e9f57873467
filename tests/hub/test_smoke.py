from __future__ import annotations


def test_home_page_renders(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Biosafety Capacity-Building Network" in response.data
