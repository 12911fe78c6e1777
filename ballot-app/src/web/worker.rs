//! The booth's helper as a Web Worker (`app/worker.js` loads this same WebAssembly and calls
//! [`worker_main`]); [`Helper`] is the page's end. One request at a time: the booth awaits each
//! answer before it asks the next.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise};
use rand_core::OsRng;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::helper::{Engine, Reply, Request};

/// The script that starts the helper (in the booth bundle).
const SCRIPT: &str = "/app/worker.js";

/// The helper's entry point, called by `worker.js` in the worker once the module is loaded:
/// answers each message with [`Engine::handle`], and says [`Reply::Ready`] once listening.
#[wasm_bindgen]
pub fn worker_main() {
    let scope: web_sys::DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let engine = RefCell::new(Engine::default());
    let replies = scope.clone();
    let on_message =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let reply = match ev
                .data()
                .as_string()
                .map(|t| serde_json::from_str::<Request>(&t))
            {
                Some(Ok(request)) => engine.borrow_mut().handle(request, &mut OsRng),
                _ => Reply::Failed {
                    message: "The booth's helper got a message it does not understand.".to_owned(),
                },
            };
            post(&replies, &reply);
        });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The handler lives as long as the worker.
    on_message.forget();
    post(&scope, &Reply::Ready);
}

fn post(scope: &web_sys::DedicatedWorkerGlobalScope, reply: &Reply) {
    // The replies' own types serialise infallibly (strings, numbers, hex).
    let text = serde_json::to_string(reply).unwrap_or_default();
    let _ = scope.post_message(&JsValue::from_str(&text));
}

/// The page's end of the helper.
pub(crate) struct Helper {
    worker: web_sys::Worker,
    /// Resolves the answer awaited, if any.
    waiting: Rc<RefCell<Option<Function>>>,
    _on_message: Closure<dyn FnMut(web_sys::MessageEvent)>,
    _on_error: Closure<dyn FnMut(web_sys::Event)>,
}

impl Helper {
    /// Starts the helper and waits until it listens.
    pub(crate) async fn start() -> Result<Self, String> {
        let waiting: Rc<RefCell<Option<Function>>> = Rc::new(RefCell::new(None));
        let ready = answer(&waiting);
        let resolve = Rc::clone(&waiting);
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                if let Some(f) = resolve.borrow_mut().take() {
                    let _ = f.call1(&JsValue::NULL, &ev.data());
                }
            });
        let failed = Rc::clone(&waiting);
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_ev: web_sys::Event| {
            if let Some(f) = failed.borrow_mut().take() {
                let text = serde_json::to_string(&Reply::Failed {
                    message: "The booth's helper stopped. Reload the page.".to_owned(),
                })
                .unwrap_or_default();
                let _ = f.call1(&JsValue::NULL, &JsValue::from_str(&text));
            }
        });
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        let worker = web_sys::Worker::new_with_options(SCRIPT, &options).map_err(|e| {
            format!(
                "This browser could not start the booth's helper ({})",
                super::browser::js_text(&e)
            )
        })?;
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let helper = Self {
            worker,
            waiting,
            _on_message: on_message,
            _on_error: on_error,
        };
        match read(ready.await)? {
            Reply::Ready => Ok(helper),
            other => Err(unexpected(&other)),
        }
    }

    /// Sends `request` and waits for the answer.
    pub(crate) async fn call(&self, request: &Request) -> Result<Reply, String> {
        let text = serde_json::to_string(request).map_err(|e| e.to_string())?;
        let answer = answer(&self.waiting);
        self.worker
            .post_message(&JsValue::from_str(&text))
            .map_err(|e| super::browser::js_text(&e))?;
        match read(answer.await)? {
            Reply::Failed { message } => Err(message),
            reply => Ok(reply),
        }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// A promise for the next message, registered as the one awaited.
fn answer(waiting: &Rc<RefCell<Option<Function>>>) -> JsFuture {
    let slot = Rc::clone(waiting);
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        *slot.borrow_mut() = Some(resolve);
    });
    JsFuture::from(promise)
}

fn read(value: Result<JsValue, JsValue>) -> Result<Reply, String> {
    let value = value.map_err(|e| super::browser::js_text(&e))?;
    let text = value.as_string().unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| format!("The booth's helper answered oddly ({e})."))
}

/// Words for an answer that does not fit the question.
pub(crate) fn unexpected(reply: &Reply) -> String {
    format!("The booth's helper answered something else than asked ({reply:?}). Reload the page.")
}
