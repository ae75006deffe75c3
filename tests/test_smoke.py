def test_home_page_lists_the_sites_and_links_to_the_api_docs(client, site):
    response = client.get("/")
    assert response.status_code == 200
    assert f"/reserver/{site.slug}/".encode() in response.content
    assert b"/api/v1/docs" in response.content


def test_health_says_the_database_answers(client, db):
    assert client.get("/health").json() == {"status": "ok"}


def test_the_api_docs_page_loads_its_scripts_from_this_server_not_a_cdn(client, db):
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
