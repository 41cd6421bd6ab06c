//! Answers as Python objects, built here instead of written out as JSON text and parsed again
//! with `json.loads`: a page of a thousand messages took Python 1.15 ms to parse, about as
//! long as the sandbox took to produce it.
//!
//! Text (list pages) is parsed with serde_json straight into Python objects, one pass, no tree
//! in between; values are walked. Object keys repeat on every item of a page, so each distinct
//! key is made once per answer and shared (as `json.loads` memoizes them).
//!
//! Text serde cannot read into Python objects (a lone surrogate escape such as `"\ud83d"`,
//! nesting beyond 128 levels: the engine's page check lets both through) goes to `json.loads`
//! instead, so a page that Python can read is never refused. Two differences from
//! `json.loads` remain: an integer beyond 64 bits becomes a float, and `-0` the float `-0.0`
//! (serde_json's reading). The Webex REST API has neither (ids are strings, counts small).

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyFloat, PyList, PyString};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;
use webex_core::boundary::{Answer, Json};

/// The distinct keys of one answer, each made once. A page repeats a dozen keys a thousand
/// times; a linear scan over a short list beats hashing them, and a document with many
/// distinct keys (rare) stops caching after `KEYS_KEPT`.
struct Keys<'k, 'py> {
    py: Python<'py>,
    kept: Vec<(&'k str, Bound<'py, PyString>)>,
}

const KEYS_KEPT: usize = 64;

impl<'k, 'py> Keys<'k, 'py> {
    fn new(py: Python<'py>) -> Self {
        Keys { py, kept: Vec::new() }
    }

    fn key(&mut self, name: &'k str) -> Bound<'py, PyString> {
        if let Some((_, key)) = self.kept.iter().find(|(k, _)| *k == name) {
            return key.clone();
        }
        let key = PyString::new(self.py, name);
        if self.kept.len() < KEYS_KEPT {
            self.kept.push((name, key.clone()));
        }
        key
    }
}

/// `answer` as Python objects: dicts, lists, str, int, float, bool and None.
pub(crate) fn answer<'py>(py: Python<'py>, answer: &Answer) -> PyResult<Bound<'py, PyAny>> {
    match answer.json() {
        Json::Value(v) => value(&mut Keys::new(py), v),
        Json::Text(t) => text(py, t),
    }
}

/// `loads(text)`: JSON text as Python objects, the way answers are built (the tests hold it
/// to `json.loads`).
#[pyfunction]
pub(crate) fn loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    self::text(py, text)
}

/// JSON text as Python objects.
pub(crate) fn text<'py>(py: Python<'py>, json: &str) -> PyResult<Bound<'py, PyAny>> {
    let mut keys = Keys::new(py);
    let mut reader = serde_json::Deserializer::from_str(json);
    let built = Build { keys: &mut keys }.deserialize(&mut reader).and_then(|v| reader.end().map(|()| v));
    match built {
        Ok(built) => Ok(built),
        // What `json.loads` reads that serde does not (see the module docs); its error, if it
        // fails too.
        Err(_) => py.import("json")?.call_method1("loads", (json,)),
    }
}

fn value<'k, 'py>(keys: &mut Keys<'k, 'py>, v: &'k Value) -> PyResult<Bound<'py, PyAny>> {
    let py = keys.py;
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => pyo3::types::PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => number(py, n),
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let items = items.iter().map(|i| value(keys, i)).collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_any()
        }
        Value::Object(members) => {
            let dict = PyDict::new(py);
            for (name, member) in members {
                dict.set_item(keys.key(name), value(keys, member)?)?;
            }
            dict.into_any()
        }
    })
}

fn number<'py>(py: Python<'py>, n: &serde_json::Number) -> Bound<'py, PyAny> {
    if let Some(i) = n.as_i64() {
        i.into_pyobject(py).map(Bound::into_any).unwrap_or_else(|e| match e {})
    } else if let Some(u) = n.as_u64() {
        u.into_pyobject(py).map(Bound::into_any).unwrap_or_else(|e| match e {})
    } else {
        PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any()
    }
}

/// Builds one JSON value as a Python object while serde_json reads it.
struct Build<'a, 'k, 'py> {
    keys: &'a mut Keys<'k, 'py>,
}

impl<'de: 'k, 'k, 'py> DeserializeSeed<'de> for Build<'_, 'k, 'py> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn failed<E: de::Error>(e: PyErr) -> E {
    E::custom(e)
}

impl<'de: 'k, 'k, 'py> Visitor<'de> for Build<'_, 'k, 'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        let py = self.keys.py;
        Ok(py.None().into_bound(py))
    }

    fn visit_bool<E>(self, b: bool) -> Result<Self::Value, E> {
        Ok(pyo3::types::PyBool::new(self.keys.py, b).to_owned().into_any())
    }

    fn visit_i64<E>(self, i: i64) -> Result<Self::Value, E> {
        Ok(i.into_pyobject(self.keys.py).map(Bound::into_any).unwrap_or_else(|e| match e {}))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Self::Value, E> {
        Ok(u.into_pyobject(self.keys.py).map(Bound::into_any).unwrap_or_else(|e| match e {}))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Self::Value, E> {
        Ok(PyFloat::new(self.keys.py, f).into_any())
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.keys.py, s).into_any())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(Build { keys: &mut *self.keys })? {
            items.push(item);
        }
        PyList::new(self.keys.py, items).map(Bound::into_any).map_err(failed)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.keys.py);
        while let Some(key) = map.next_key_seed(Key { keys: &mut *self.keys })? {
            let member = map.next_value_seed(Build { keys: &mut *self.keys })?;
            dict.set_item(key, member).map_err(failed)?;
        }
        Ok(dict.into_any())
    }
}

/// An object's key: shared when it is read straight from the text (no escapes in it).
struct Key<'a, 'k, 'py> {
    keys: &'a mut Keys<'k, 'py>,
}

impl<'de: 'k, 'k, 'py> DeserializeSeed<'de> for Key<'_, 'k, 'py> {
    type Value = Bound<'py, PyString>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de: 'k, 'k, 'py> Visitor<'de> for Key<'_, 'k, 'py> {
    type Value = Bound<'py, PyString>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(self.keys.key(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.keys.py, s))
    }
}
