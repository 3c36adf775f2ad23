//! Headless Chromium driven through chromedriver (WebDriver) for the browser tests. Both must
//! be installed (Debian: `chromium` and `chromium-driver`); a missing one fails the test at
//! once, naming `scripts/dev-setup`, never skips it. chromedriver runs on a free loopback port;
//! it and the Chromium it starts are killed when the [`Browser`] is dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use rollcall_e2e::setup::missing;
use serde_json::{Value, json};

/// How long a page may take to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);
/// Where Chromium and chromedriver come from (`scripts/dev-setup` installs them).
const DEBIAN: &str = "Debian's chromium and chromium-driver";

/// The first of `names` found on `PATH` or in the usual Debian places.
fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.extend(["/usr/bin", "/usr/lib/chromium"].map(PathBuf::from));
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// chromedriver, killed on drop with the Chromium it started: that browser outlives a killed
/// chromedriver, and a binary of many browser tests would leave one running for each.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        for browser in children(self.0.id()) {
            // SAFETY: kill(2) only sends a signal, here to a process our chromedriver started
            // and has not reaped (so its pid is not another's). Chromium's helpers exit with it.
            unsafe { libc::kill(browser, libc::SIGKILL) };
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The child processes of process `pid`, of all its threads (`/proc/PID/task/TID/children`).
fn children(pid: u32) -> Vec<libc::pid_t> {
    let Ok(threads) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    threads
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("children")).ok())
        .flat_map(|list| {
            list.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<libc::pid_t>>()
        })
        .collect()
}

/// A headless Chromium session.
pub struct Browser {
    pub client: Client,
    base: String,
    /// chromedriver's address, for its Chromium-only commands.
    driver_addr: std::net::SocketAddr,
    _driver: Driver,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium at 1280×900 that saves downloads in
    /// `downloads`; `base` is the hub's address (`http://127.0.0.1:PORT`).
    pub async fn start(base: &str, downloads: &Path) -> Browser {
        let chromium = find(&["chromium", "chromium-browser", "chrome"])
            .unwrap_or_else(|| panic!("{}", missing("Chromium", DEBIAN)));
        let chromedriver = find(&["chromedriver"])
            .unwrap_or_else(|| panic!("{}", missing("chromedriver", DEBIAN)));
        let port = rollcall_e2e::free_port().unwrap();
        let child = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromedriver.display()));
        let driver = Driver(child);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        rollcall_e2e::wait_until("chromedriver", Duration::from_secs(20), || {
            rollcall_e2e::accepts_connections(addr)
        })
        .unwrap();
        let mut args = vec![
            "--headless=new",
            "--window-size=1280,900",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--lang=en-GB",
            "--force-device-scale-factor=1",
        ];
        if running_as_root() {
            args.push("--no-sandbox");
        }
        let options = json!({
            "binary": chromium,
            "args": args,
            "prefs": {
                "download.default_directory": downloads,
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
            },
        });
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://{addr}"))
            .await
            .unwrap_or_else(|e| panic!("chromedriver could not start {}: {e}", chromium.display()));
        Browser {
            client,
            base: base.to_owned(),
            driver_addr: addr,
            _driver: driver,
        }
    }

    /// Cuts the browser's network (`online` false) or gives it back, with chromedriver's
    /// Chromium network emulation: the page's requests fail as on a phone with no signal.
    pub async fn network(&self, online: bool) {
        let session = self.client.session_id().await.unwrap().unwrap();
        let url = format!(
            "http://{}/session/{session}/chromium/network_conditions",
            self.driver_addr
        );
        let conditions = json!({"network_conditions": {
            "offline": !online, "latency": 0,
            "download_throughput": -1, "upload_throughput": -1,
        }});
        let answer = reqwest::Client::new()
            .post(url)
            .json(&conditions)
            .send()
            .await
            .unwrap();
        assert!(
            answer.status().is_success(),
            "chromedriver: {}",
            answer.text().await.unwrap_or_default()
        );
    }

    /// Opens `path` on the hub (a full page load).
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Waits until `script` returns something truthy, and returns it. A script that throws
    /// (an element the page has not drawn yet) has not seen it yet; its last error is told if
    /// it never does.
    pub async fn wait(&self, what: &str, script: &str, args: Vec<Value>) -> Value {
        let deadline = Instant::now() + PATIENCE;
        let mut thrown = None;
        loop {
            let v = match self.client.execute(script, args.clone()).await {
                Ok(v) => v,
                Err(e) => {
                    thrown = Some(e.to_string());
                    Value::Null
                }
            };
            let truthy =
                !matches!(&v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("");
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                let page = self.text("main").await;
                let status = self.text("#status").await;
                let thrown = thrown.map_or(String::new(), |e| format!("\nlast error: {e}"));
                panic!(
                    "{what}: not seen within {PATIENCE:?}{thrown}\nstatus: {status}\npage: {page}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the status line says `text` (what a page announces after an action).
    pub async fn said(&self, text: &str) {
        let script = "return document.getElementById('status').textContent.includes(arguments[0]);";
        self.wait(&format!("the message {text:?}"), script, vec![json!(text)])
            .await;
    }

    /// The text of the first element matching `css` once it holds every one of `parts` (the
    /// page redraws after an action's message, not before it).
    pub async fn text_with(&self, css: &str, parts: &[&str]) -> String {
        let script = "const e = document.querySelector(arguments[0]); \
                      return !!e && arguments[1].every(p => e.innerText.includes(p));";
        self.wait(
            &format!("{css} showing {parts:?}"),
            script,
            vec![json!(css), json!(parts)],
        )
        .await;
        self.text(css).await
    }

    /// The text of the first element matching `css` ("" when there is none).
    pub async fn text(&self, css: &str) -> String {
        let v = self
            .js(
                "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
                vec![json!(css)],
            )
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// Signs in on the sign-in page as `user` and waits for the navigation bar.
    pub async fn sign_in(&self, user: &str, password: &str) {
        self.type_into("input[name=username]", user).await;
        self.type_into("input[name=password]", password).await;
        self.click("form.signin button[type=submit]").await;
        self.visible("#nav").await;
    }

    /// Waits for `css` to match a visible element, brings it to the middle of the window,
    /// fails if anything covers it there (what a finger would tap instead, or the status line
    /// floating over it, which takes no taps but hides what is tapped), then clicks it.
    pub async fn click(&self, css: &str) {
        // A page in the navigation's closed menu is reached as a finger reaches it: the menu
        // is opened first.
        let menu = "const e = document.querySelector(arguments[0]); \
            const d = e && e.closest('#nav details:not([open])'); \
            return d && e.parentElement !== d ? '#' + d.id + ' > summary' : null;";
        if let Some(summary) = self.js(menu, vec![json!(css)]).await.as_str() {
            self.visible(summary).await;
            self.client
                .find(Locator::Css(summary))
                .await
                .unwrap()
                .click()
                .await
                .unwrap_or_else(|e| panic!("opening the menu around {css}: {e}"));
        }
        self.visible(css).await;
        let centre = "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});";
        self.js(centre, vec![json!(css)]).await;
        let covered = "const e = document.querySelector(arguments[0]); \
            const r = e.getBoundingClientRect(); \
            const s = document.getElementById('status'); \
            const m = s && s.textContent ? s.getBoundingClientRect() : null; \
            if (m && r.left < m.right && m.left < r.right && r.top < m.bottom && m.top < r.bottom) \
              return 'the status line: ' + s.textContent; \
            const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2); \
            if (!top || e === top || e.contains(top) || top.contains(e)) return null; \
            return top.outerHTML.slice(0, 160);";
        let over = self.js(covered, vec![json!(css)]).await;
        assert!(
            over.is_null(),
            "{css} is covered where it would be tapped by {over}"
        );
        self.assert_no_page_errors(css).await;
        // A page that redraws (the roll call polls) may replace the element between finding it
        // and clicking it: a finger would tap the new one, so the click finds it again.
        for attempt in 1..=3 {
            let el = self.client.find(Locator::Css(css)).await.unwrap();
            match el.click().await {
                Ok(()) => return,
                Err(e) if e.is_stale_element_reference() && attempt < 3 => continue,
                Err(e) => panic!("clicking {css}: {e}"),
            }
        }
    }

    /// Types `text` into the element matching `css`.
    pub async fn type_into(&self, css: &str, text: &str) {
        self.visible(css).await;
        let el = self.client.find(Locator::Css(css)).await.unwrap();
        el.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {css}: {e}"));
    }

    /// Waits until `css` matches an element that is shown.
    pub async fn visible(&self, css: &str) {
        let script = "const e = document.querySelector(arguments[0]); \
            return !!e && e.getClientRects().length > 0;";
        self.wait(&format!("{css} visible"), script, vec![json!(css)])
            .await;
    }

    /// Waits until every face image on the page has loaded (or is marked missing).
    pub async fn faces_loaded(&self) {
        let script = "const all = [...document.querySelectorAll('img.face')]; \
            return all.length > 0 && all.every(i => i.classList.contains('missing') \
              || (i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:')));";
        self.wait("face images loaded", script, vec![]).await;
    }

    /// Resizes the window so the page's viewport is `width` wide.
    pub async fn viewport(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
        let inner = self.js("return window.innerWidth;", vec![]).await;
        let inner = inner.as_u64().unwrap() as u32;
        if inner != width {
            let outer = width + (width - inner.min(width));
            self.client.set_window_size(outer, height).await.unwrap();
        }
        let inner = self.js("return window.innerWidth;", vec![]).await;
        assert_eq!(
            inner,
            json!(width),
            "the viewport could not be set to {width} px"
        );
    }

    /// Fails when the page has met an error it did not catch (`window.rollcallErrors`, kept
    /// by the app and said on its status line), naming them and `when`.
    pub async fn assert_no_page_errors(&self, when: &str) {
        let errors = self.js("return window.rollcallErrors || [];", vec![]).await;
        assert_eq!(
            errors,
            json!([]),
            "uncaught errors in the page before {when}"
        );
    }

    /// Fails when the page scrolls sideways at the current width, or a table does inside its
    /// own box (tables stack on a phone; only grids read across, `.keep-columns`, scroll).
    pub async fn assert_no_sideways_scroll(&self, page: &str) {
        let script = "const past = (e) => e.getBoundingClientRect().right > window.innerWidth + 0.5; \
            const over = [...document.body.querySelectorAll('*')] \
              .filter(e => past(e) && !(e.parentElement && past(e.parentElement))) \
              .map(e => e.outerHTML.slice(0, 120)); \
            const wide = [...document.querySelectorAll('table:not(.keep-columns)')] \
              .filter(t => t.getClientRects().length && t.scrollWidth > t.parentElement.clientWidth + 1) \
              .map(t => t.outerHTML.slice(0, 120)); \
            return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth, \
              over: over.slice(0, 5), wide: wide.slice(0, 3)};";
        let v = self.js(script, vec![]).await;
        let (scroll, inner) = (v["scroll"].as_u64().unwrap(), v["inner"].as_u64().unwrap());
        assert!(
            scroll <= inner,
            "{page} scrolls sideways at {inner} px (content is {scroll} px wide; \
             first past the edge: {})",
            v["over"]
        );
        assert_eq!(
            v["wide"],
            json!([]),
            "{page} at {inner} px has a table wider than its place"
        );
    }

    /// Fails when a word shown on the page is broken across lines though its whole token (the
    /// text between spaces) is narrower than half the window: room a word always has where
    /// the page is laid out right (a squeezed table column breaking "Students" into
    /// "St u d e n ts" is what this catches). Longer tokens (a setup code, a link) may break
    /// where they must; hyphens and slashes are places a word may break. Text kept for screen readers only (clipped to a pixel) is not
    /// read.
    pub async fn assert_no_broken_words(&self, page: &str) {
        let script = "const limit = window.innerWidth / 2; const broken = []; \
            const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT); \
            const range = document.createRange(); \
            const clipped = (e) => { for (; e; e = e.parentElement) { const r = e.getBoundingClientRect(); \
              if (r.width <= 1 && r.height <= 1) return true; } return false; }; \
            for (let n = walk.nextNode(); n; n = walk.nextNode()) { \
              const e = n.parentElement; \
              if (!e || e.closest('script, style, pre') || !e.getClientRects().length || clipped(e)) continue; \
              const rects = (from, to) => { range.setStart(n, from); range.setEnd(n, to); \
                return [...range.getClientRects()].filter(r => r.width > 0); }; \
              for (const t of n.data.matchAll(/\\S+/g)) { \
                if (rects(t.index, t.index + t[0].length).reduce((w, r) => w + r.width, 0) >= limit) continue; \
                for (const m of t[0].matchAll(/[^\\-\u{2010}-\u{2014}\\/]{2,}/g)) { \
                  const at = t.index + m.index; \
                  if (new Set(rects(at, at + m[0].length).map(r => Math.round(r.top))).size > 1) \
                    broken.push(m[0] + ' in <' + e.tagName.toLowerCase() + ' class=\"' + e.className + '\">'); \
                } \
              } \
            } \
            return broken.slice(0, 12);";
        let broken = self.js(script, vec![]).await;
        let width = self.js("return window.innerWidth;", vec![]).await;
        assert_eq!(
            broken,
            json!([]),
            "{page} at {width} px breaks words inside themselves"
        );
    }

    /// Runs axe-core's WCAG 2 A and AA rules on the page as it is, and fails on any violation,
    /// naming each rule, its impact and the elements (scripts/fetch-axe-core.sh fetches it).
    pub async fn assert_accessible(&self, page: &str) {
        let loaded = self
            .js("return typeof window.axe === 'object';", vec![])
            .await;
        if loaded != json!(true) {
            self.js(&axe_core(), vec![]).await;
        }
        let script = "const done = arguments[arguments.length - 1]; \
            axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}, \
              resultTypes: ['violations']}) \
            .then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, \
              nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary)})))) \
            .catch(e => done([{id: 'axe failed', help: String(e)}]));";
        let violations = self
            .client
            .execute_async(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("axe-core did not run on {page}: {e}"));
        self.assert_no_page_errors(page).await;
        self.assert_no_broken_words(page).await;
        let width = self.js("return window.innerWidth;", vec![]).await;
        assert_eq!(
            violations,
            json!([]),
            "{page} at {width} px breaks WCAG 2 A/AA rules:\n{}",
            serde_json::to_string_pretty(&violations).unwrap_or_default()
        );
    }

    /// Checks `page` at phone width (no sideways scroll, axe-core's rules) and at desktop
    /// width (axe-core's rules), and leaves the window at desktop width.
    pub async fn assert_fits_and_accessible(&self, page: &str) {
        self.viewport(375, 812).await;
        self.assert_no_sideways_scroll(page).await;
        self.assert_accessible(page).await;
        self.viewport(1280, 900).await;
        self.assert_accessible(page).await;
    }

    /// Saves a screenshot as `docs/screenshots/NAME.png` when ROLLCALL_SCREENSHOTS=1, with every
    /// face blurred (the test photos must never be committed recognisably).
    pub async fn screenshot(&self, name: &str) {
        if std::env::var("ROLLCALL_SCREENSHOTS").as_deref() != Ok("1") {
            return;
        }
        self.js(
            "document.documentElement.classList.add('blur-faces');",
            vec![],
        )
        .await;
        let blurred = "return [...document.querySelectorAll('img')].every(i => \
            !(i.classList.contains('face') || i.closest('.photo-frame')) \
            || getComputedStyle(i).filter.includes('blur'));";
        self.wait("faces blurred", blurred, vec![]).await;
        self.js("document.activeElement && document.activeElement.blur && document.activeElement.blur(); document.getElementById('status').textContent = '';", vec![]).await;
        let png = self.client.screenshot().await.unwrap();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
        self.js(
            "document.documentElement.classList.remove('blur-faces');",
            vec![],
        )
        .await;
    }
}

/// axe-core's script: `$AXE_CORE_JS`, or where scripts/fetch-axe-core.sh puts it.
fn axe_core() -> String {
    const VERSION: &str = "4.14.1";
    let path = std::env::var_os("AXE_CORE_JS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            rollcall_e2e::tools_dir().join(format!("axe-core/axe-core-{VERSION}/axe.min.js"))
        });
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        let at = format!("{}: {e}", path.display());
        panic!("{}", missing("axe-core, the accessibility checker", at))
    })
}
