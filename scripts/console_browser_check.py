#!/usr/bin/env python3
"""Drives TokenMeter's web console in headless Chromium (Debian's chromium and chromium-driver, through Selenium).

Usage: console_browser_check.py BASE_URL ADMIN_KEY USER EXPECTED_SPENT KEY_TO_REVOKE SCREENSHOT_DIR

The only address typed is BASE_URL/console; everything after is clicks and form entries, as an operator would:
sign in with the admin key, open Users, open USER, read this month's spend (it must equal EXPECTED_SPENT, the
exact amount the caller's streamed requests settled), revoke the key KEY_TO_REVOKE by its row and check over
HTTP that it now gets 401, edit the budget and see it saved, issue a key and check over HTTP that it works,
open Reports (and fetch its CSV download with the session's cookie) and Alerts, look at every page at a
phone's width (no sideways scrolling of the page), and sign out. Every page gets a screenshot in
SCREENSHOT_DIR, and the browser's console must stay free of warnings and errors throughout (the one expected
message is the 401 of a deliberately wrong admin key).

Prints one JSON line with what it saw; exit 0 when every check passed, 1 when one failed, 77 when Selenium or
chromedriver is missing (the caller reports it).
"""
import json
import os
import shutil
import sys
import urllib.error
import urllib.request

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
except ImportError:
    print(json.dumps({"skipped": "the selenium package is not installed (pip install selenium)"}))
    sys.exit(77)

DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
BROWSER = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


class CheckFailed(Exception):
    pass


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def http_status(url, key):
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def main() -> int:
    base, admin_key, user, expected_spent, revoke_key, shots = sys.argv[1:7]
    if not (os.path.exists(DRIVER) and os.path.exists(BROWSER)):
        print(json.dumps({"skipped": f"chromedriver ({DRIVER}) or chromium ({BROWSER}) is missing "
                                     "(apt-get install chromium chromium-driver)"}))
        return 77
    os.makedirs(shots, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = BROWSER
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-first-run", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # The driver named explicitly: Selenium Manager would otherwise try to download one.
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=options)
    driver.set_page_load_timeout(20)
    seen = {"pages": []}
    console_messages = []

    def page(name):
        """Screenshot of the current page, and what the browser console said while it loaded."""
        path = os.path.join(shots, f"{len(seen['pages']):02d}-{name}.png")
        driver.save_screenshot(path)
        for entry in driver.get_log("browser"):
            if entry.get("level") in ("WARNING", "SEVERE"):
                console_messages.append({"page": name, "level": entry.get("level"), "message": entry.get("message")})
        seen["pages"].append({"name": name, "title": driver.title, "screenshot": path})

    def click(selector):
        """Clicks a link or a form's button and waits until the next page has replaced this one."""
        old = driver.find_element(By.TAG_NAME, "html")
        driver.find_element(By.CSS_SELECTOR, selector).click()
        # While a POST's redirect replaces the page, Chrome may answer about the old document with "node does not
        # belong to the document" instead of "stale element": both mean the page is changing, so both wait on.
        settling = (StaleElementReferenceException, WebDriverException)
        WebDriverWait(driver, 15, ignored_exceptions=settling).until(expected_conditions.staleness_of(old))
        WebDriverWait(driver, 15, ignored_exceptions=settling).until(
            lambda d: d.execute_script("return document.readyState") == "complete")

    def text(selector):
        """The element's text, read again while the page is still settling (see click)."""
        settling = (StaleElementReferenceException, WebDriverException)
        return WebDriverWait(driver, 10, ignored_exceptions=settling).until(
            lambda d: (d.find_element(By.CSS_SELECTOR, selector).text,))[0]

    try:
        driver.get(base + "/console")
        page("sign-in")
        driver.find_element(By.ID, "admin-key").send_keys("not-the-admin-key")
        click("#sign-in")
        check("not the admin key" in text("#error"), "a wrong admin key was not refused on the page")
        # The refusal is a 401 page, which the browser logs as a failed load: expected here, and only that.
        refused = [e["message"] for e in driver.get_log("browser") if e.get("level") in ("WARNING", "SEVERE")]
        check(all("401" in m for m in refused), f"unexpected console messages at the refused sign-in: {refused}")
        driver.find_element(By.ID, "admin-key").send_keys(admin_key)
        click("#sign-in")
        check(driver.find_elements(By.ID, "nav-users"), "signing in with the admin key did not open the console")
        cookies = {c["name"]: c for c in driver.get_cookies()}
        session = cookies.get("tokenmeter_console")
        check(session is not None and session.get("httpOnly") and session.get("sameSite") == "Strict",
              f"the session cookie is not HttpOnly and SameSite=Strict: {session}")
        check(admin_key not in json.dumps(driver.get_cookies()), "the admin key is stored in a cookie")
        page("overview")
        seen["overview_cost"] = text("#month-cost")
        seen["live_streams"] = text("#live-streams")

        click("#nav-users")
        page("users")
        click(f'tr[data-user="{user}"] a.user-link')
        page("user")
        seen["user_spent"] = text("#user-spent")
        check(seen["user_spent"] == expected_spent,
              f"the user's spend reads {seen['user_spent']!r}, expected {expected_spent!r}")
        recent = driver.find_elements(By.CSS_SELECTOR, "#recent tbody tr")
        seen["recent_requests"] = len(recent)
        check(len(recent) > 0, "the user's recent requests are not listed")

        prefix = revoke_key.split("_")[1]
        check(http_status(base + "/v1/models", revoke_key) == 200, "the key to revoke did not work before")
        click(f'tr[data-key-prefix="{prefix}"] button.revoke')
        check("revoked" in text("#flash").lower(), "no confirmation after revoking the key")
        check("revoked" in text(f'tr[data-key-prefix="{prefix}"]'), "the key's row does not say revoked")
        page("user-key-revoked")
        seen["revoked_key_status"] = http_status(base + "/v1/models", revoke_key)
        check(seen["revoked_key_status"] == 401, f"the revoked key got {seen['revoked_key_status']}, not 401")

        field = driver.find_element(By.ID, "budget-monthly-usd")
        field.clear()
        field.send_keys("12.34")
        click("#save-budget")
        check("Budget saved" in text("#flash"), "no confirmation after saving the budget")
        seen["budget_after_edit"] = text("#user-budget")
        check("$12.34" in seen["budget_after_edit"], f"the new limit is not shown: {seen['budget_after_edit']!r}")
        page("user-budget-saved")

        click("#issue-key")
        new_key = text("#new-key")
        check(new_key.startswith("tm_"), f"no new key shown: {new_key!r}")
        seen["new_key_status"] = http_status(base + "/v1/models", new_key)
        check(seen["new_key_status"] == 200, f"the new key got {seen['new_key_status']}")
        page("user-key-issued")

        click("#nav-reports")
        page("reports")
        csv_url = driver.find_element(By.ID, "download-csv").get_attribute("href")
        request = urllib.request.Request(csv_url, headers={"Cookie": f"tokenmeter_console={session['value']}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            disposition = response.headers.get("Content-Disposition", "")
            body = response.read().decode()
        check("attachment" in disposition and user in body, "the CSV download is not the month's report")
        seen["csv_bytes"] = len(body)

        click("#nav-alerts")
        page("alerts")

        # At a phone's width no page scrolls sideways (wide charts and tables scroll inside their panels).
        driver.set_window_size(390, 844)
        seen["phone_overflow_px"] = {}
        for name, selector in (("overview", "#nav-overview"), ("users", "#nav-users"),
                               ("user", f'tr[data-user="{user}"] a.user-link'), ("reports", "#nav-reports"),
                               ("alerts", "#nav-alerts")):
            click(selector)
            overflow = driver.execute_script(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
            seen["phone_overflow_px"][name] = overflow
            check(overflow <= 1, f"at a phone's width the {name} page scrolls sideways by {overflow} px")
            if name == "user":
                page("user-phone")
        driver.set_window_size(1280, 1000)

        click("#sign-out")
        check(driver.find_elements(By.ID, "admin-key"), "signing out did not return to the sign-in form")
        page("signed-out")
    except CheckFailed as failure:
        seen["failed"] = str(failure)
    except Exception as error:  # a missing element, a timeout: report it with where the browser was
        seen["failed"] = f"{type(error).__name__}: {error}".strip()
        seen["at"] = driver.current_url
    finally:
        try:
            for entry in driver.get_log("browser"):
                if entry.get("level") in ("WARNING", "SEVERE"):
                    console_messages.append({"page": "end", "level": entry.get("level"), "message": entry.get("message")})
        finally:
            driver.quit()
    seen["console_messages"] = console_messages
    if console_messages and "failed" not in seen:
        seen["failed"] = "the browser console reported messages"
    print(json.dumps(seen))
    return 1 if "failed" in seen else 0


if __name__ == "__main__":
    sys.exit(main())
