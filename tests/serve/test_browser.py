"""A real browser (Debian's chromium through its chromium-driver) walks the whole round."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import missing

from .conftest import SHU, Made, broken_then_fixed, free_port, kill_group, make_collection, start_server

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the test extra)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1600",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[tuple[object, Path]]:
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver are required in CI (.ci/run installs them)")
        missing("chromium and chromium-driver")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(DRIVER))
    try:
        yield driver, downloads
    finally:
        driver.quit()


def downloaded(folder: Path, suffix: str, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = [p for p in folder.iterdir() if p.suffix == suffix]
        if done and not list(folder.glob("*.crdownload")):
            return done[0]
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} download in {timeout} s: {list(folder.iterdir())}")


def click_and_wait(driver: Any, by: str, what: str) -> None:
    """Click what submits a form, and wait until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(by, what).click()
    WebDriverWait(driver, 120).until(expected_conditions.staleness_of(page))


def shot(driver: Any, name: str) -> None:
    """Full-page screenshots for a person to look at, when XLTOOL_SCREENSHOTS names a folder."""
    folder = os.environ.get("XLTOOL_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        height = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]["height"]
        metrics = {"width": 1280, "height": int(height), "deviceScaleFactor": 1, "mobile": False}
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        driver.save_screenshot(str(Path(folder) / name))
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.slow
def test_the_round_in_a_real_browser(browser, tmp_path):
    driver, downloads = browser
    made: Made = make_collection(tmp_path / "round", None)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = start_server(made.folder, port)
    try:
        # the admin logs in
        driver.get(base + "/admin")
        driver.find_element(By.ID, "password").send_keys(made.created.admin_password)
        click_and_wait(driver, By.CSS_SELECTOR, "form button[type=submit]")
        assert "年度报告收集情况" in driver.find_element(By.TAG_NAME, "h1").text
        assert "未报送 3" in driver.find_element(By.CLASS_NAME, "totals").text

        # a unit opens its link and downloads its template
        driver.get(base + made.link(SHU))
        assert driver.find_element(By.TAG_NAME, "h1").text == SHU
        driver.find_element(By.LINK_TEXT, "下载本单位的填报模板").click()
        template = downloaded(downloads, ".xlsx")
        assert template.name == f"{SHU}2023年政府信息公开工作年度报告填报模板.xlsx"
        broken, fixed = broken_then_fixed(template, tmp_path)

        # uploads a workbook with a broken sum and sees the finding
        driver.find_element(By.ID, "file").send_keys(str(broken))
        click_and_wait(driver, By.CSS_SELECTOR, "form.upload button")
        findings = driver.find_element(By.CLASS_NAME, "findings").text
        assert "总计填报为 30，按各类申请人相加应为 26" in findings and "J6" in findings
        assert "有错误" in driver.find_element(By.CSS_SELECTOR, "h2 .badge").text
        shot(driver, "unit-errors.png")

        # uploads the fixed one and sees 通过
        driver.find_element(By.ID, "file").send_keys(str(fixed))
        click_and_wait(driver, By.CSS_SELECTOR, "form.upload button")
        assert driver.find_element(By.CSS_SELECTOR, "h2 .badge").text == "通过"
        assert "校验通过，已报送" in driver.find_element(By.CLASS_NAME, "good").text
        shot(driver, "unit-ok.png")

        # the admin sees the state change and downloads a summary that xltool check passes
        driver.get(base + "/admin")
        row = driver.find_element(By.XPATH, f"//tr[td[1][text()='{SHU}']]")
        assert row.find_element(By.CLASS_NAME, "badge").text == "通过"
        assert "通过 1" in driver.find_element(By.CLASS_NAME, "totals").text
        shot(driver, "admin.png")
        for p in downloads.iterdir():
            p.unlink()
        driver.find_element(By.LINK_TEXT, "下载汇总工作簿").click()
        summary = downloaded(downloads, ".xlsx")
        run = subprocess.run([sys.executable, "-m", "xltool", "check", str(summary)], capture_output=True, text=True)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "通过" in run.stdout
    finally:
        kill_group(proc)
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)
