"""The Learn path: its pages in course order, and the footer that shows where a reader is."""

from __future__ import annotations

import streamlit as st

#: (file, title, icon), in the order the course takes
LEARN_PAGES = (
    ("app_pages/learn_1_gradient_descent.py", "1. Gradient descent", ":material/trending_down:"),
    ("app_pages/learn_2_batches.py", "2. Batch, SGD, mini-batch", ":material/dataset:"),
    ("app_pages/learn_3_ewma.py", "3. Moving averages", ":material/show_chart:"),
    ("app_pages/learn_4_momentum.py", "4. Momentum", ":material/sports_baseball:"),
    ("app_pages/learn_5_nesterov.py", "5. Nesterov", ":material/visibility:"),
    ("app_pages/learn_6_adagrad.py", "6. AdaGrad", ":material/tune:"),
    ("app_pages/learn_7_rmsprop.py", "7. RMSProp", ":material/equalizer:"),
    ("app_pages/learn_8_adam.py", "8. Adam and Nadam", ":material/rocket_launch:"),
    ("app_pages/learn_9_reference.py", "9. Reference card", ":material/menu_book:"),
    ("app_pages/learn_10_networks.py", "10. Real networks", ":material/hub:"),
)


# Back to a Learn page re-renders it from the top: remember how far down the reader was when they
# followed a link, and scroll there again once the page is back (charts render late: retry a while).
# Streamlit writes a link to the default page (the Playground, at /) with a query as "?query", which
# resolves to the current page: make it "./?query", so a new tab opens the Playground too.
KEEP_PLACE_JS = """(() => {
  const main = () => document.querySelector('[data-testid=stMain]');
  const key = () => 'place:' + location.pathname;
  if (!window.dlPlaces) {
    window.dlPlaces = true;
    document.addEventListener('click', (e) => {
      if (e.target.closest('a') && main()) sessionStorage.setItem(key(), String(main().scrollTop));
    }, true);
    window.addEventListener('popstate', () => { window.dlBack = true; });
    // Streamlit sometimes first writes a followed Playground link's query onto this page's own address
    // (a race between its two page messages), then pushes the Playground's: two history entries, so
    // Back took two presses (1 click in 4 here). The interim entry is skipped.
    let following = 0;
    document.addEventListener('click', (e) => {
      const a = e.target.closest('a[data-testid=stPageLink-NavLink]');
      if (a && (a.getAttribute('href') || '').startsWith('./?')) following = performance.now();
    }, true);
    const push = history.pushState.bind(history);
    history.pushState = (state, title, url) => {
      const to = new URL(String(url), location.href);
      const interim = following && performance.now() - following < 10000 && to.pathname === location.pathname
        && to.search;
      if (interim) return;
      if (to.pathname !== location.pathname) following = 0;
      return push(state, title, url);
    };
    const fix = () => document.querySelectorAll('a[data-testid=stPageLink-NavLink][href^="?"]')
      .forEach((a) => a.setAttribute('href', './' + a.getAttribute('href')));
    new MutationObserver(fix).observe(document.body, {subtree: true, childList: true, attributes: true,
                                                      attributeFilter: ['href']});
    fix();
  }
  const top = Number(sessionStorage.getItem(key()) || 0);
  if (!window.dlBack || !top) return;
  window.dlBack = false;
  let tries = 0;
  const go = () => {
    const m = main();
    if (m) m.scrollTop = top;
    if ((!m || Math.abs(m.scrollTop - top) > 2) && ++tries < 60) setTimeout(go, 100);
  };
  go();
})();"""


# On a phone a chart's title spans the whole width and Plotly's toolbar, shown on a tap, floats over it;
# there the Learn charts go without the toolbar (zoom by pinching still works). Wider screens keep it.
PHONE_NO_TOOLBAR = "@media (max-width:640px){.js-plotly-plot .modebar-container{display:none !important}}"


def footer(current: str) -> None:
    """'Page k of n' and links to the previous and next Learn pages; Back to this page from a link
    on it returns to where the reader was (KEEP_PLACE_JS); no chart toolbar on a phone."""
    st.html(f"<script>{KEEP_PLACE_JS}</script>", width="content", unsafe_allow_javascript=True)
    st.markdown(f"<style>{PHONE_NO_TOOLBAR}</style>", unsafe_allow_html=True)
    pages = LEARN_PAGES
    files = [p[0] for p in pages]
    k = files.index(current)
    st.divider()
    st.caption(f"Learn · page {k + 1} of {len(pages)}")
    left, right = st.columns(2)
    if k > 0:
        left.page_link(pages[k - 1][0], label=f"Previous: {pages[k - 1][1]}", icon=":material/arrow_back:")
    if k + 1 < len(pages):
        right.page_link(pages[k + 1][0], label=f"Next: {pages[k + 1][1]}", icon=":material/arrow_forward:")
