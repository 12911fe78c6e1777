//! The app: navigation, the pages (path routing), the footer.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

use super::bench::Bench;
use super::booth::Booth;
use super::footer::Footer;
use super::glossary::Glossary;
use super::observer::Observer;
use super::officials::Officials;
use super::results::ResultsPage;
use super::start::Start;
use super::tracker::Tracker;
use crate::web::integrity::{check_served_booth, BoothCheck};

/// What the browser found about the booth it runs, shared by the footer and the observer page.
#[derive(Clone, Copy)]
pub(crate) struct BoothState(pub(crate) RwSignal<BoothCheck>);

/// The whole app.
#[component]
pub(crate) fn App() -> impl IntoView {
    let booth = RwSignal::new(BoothCheck::Checking);
    provide_context(BoothState(booth));
    spawn_local(async move { booth.set(check_served_booth().await) });
    view! {
        <Router>
            <header class="site">
                <p class="brand">"Tabella"</p>
                <nav aria-label="Pages">
                    <ul>
                        <li><A href="/booth" attr:id="nav-booth">"Vote"</A></li>
                        <li><A href="/tracker" attr:id="nav-tracker">"Track a ballot"</A></li>
                        <li><A href="/results" attr:id="nav-results">"Results"</A></li>
                        <li><A href="/observer" attr:id="nav-observer">"Verify the election"</A></li>
                        <li><A href="/officials" attr:id="nav-officials">"Officials"</A></li>
                        <li><A href="/glossary" attr:id="nav-glossary">"Glossary"</A></li>
                    </ul>
                </nav>
            </header>
            <main id="main">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Start />
                    <Route path=path!("/booth") view=Booth />
                    <Route path=path!("/tracker") view=Tracker />
                    <Route path=path!("/results") view=ResultsPage />
                    <Route path=path!("/glossary") view=Glossary />
                    <Route path=path!("/observer") view=Observer />
                    <Route path=path!("/officials") view=Officials />
                    <Route path=path!("/bench") view=Bench />
                </Routes>
            </main>
            <Footer />
        </Router>
    }
}

/// Any other path.
#[component]
fn NotFound() -> impl IntoView {
    crate::web::browser::set_title("Not found");
    view! {
        <h1>"There is no such page"</h1>
        <p>"Choose a page above: vote, track a ballot, or verify the election."</p>
    }
}
