// SPDX-License-Identifier: GPL-2.0

//! Implementation of the `#[kunit_tests]` attribute.
//!
//! The attribute turns an inline module of `#[test]` functions into a KUnit suite: each test
//! function gets an `extern "C"` wrapper KUnit can call, the wrappers are collected in a
//! `kunit_case` table, and the suite is placed in the `.kunit_test_suites` section, where KUnit
//! finds built-in suites at boot and module suites at load time.
//!
//! Inside the module, `assert!`, `assert_eq!` and `assert_ne!` are rewritten into the KUnit
//! assertions of the `kernel` crate, which report the file and line of the failing assertion to
//! KUnit instead of panicking. The rewritten call keeps the span of the original macro name, so
//! the reported line is the line of the assertion in the source.

use proc_macro::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// The size of `struct kunit_suite::name`, including the terminating NUL.
const KUNIT_SUITE_NAME_SIZE: usize = 256;

/// Returns a `compile_error!` invocation carrying `msg`, spanned at `span`.
fn compile_error(msg: &str, span: Span) -> TokenStream {
    let mut args = TokenStream::new();
    args.extend([TokenTree::Literal(proc_macro::Literal::string(msg))]);
    let mut out = TokenStream::new();
    out.extend([
        TokenTree::Ident(Ident::new("compile_error", span)),
        TokenTree::Punct(Punct::new('!', Spacing::Alone)),
        TokenTree::Group(Group::new(Delimiter::Parenthesis, args)),
        TokenTree::Punct(Punct::new(';', Spacing::Alone)),
    ]);
    out
}

/// Returns true if `group` is the body of a `#[test]` attribute.
fn is_test_attribute(group: &Group) -> bool {
    let mut inner = group.stream().into_iter();
    matches!(
        (inner.next(), inner.next()),
        (Some(TokenTree::Ident(ident)), None) if ident.to_string() == "test"
    )
}

/// Builds `::kernel::<name>!(<args>)` with every token spanned at `span`.
fn kernel_macro_call(span: Span, name: &str, args: TokenStream) -> Vec<TokenTree> {
    let mut call = Vec::new();
    for segment in ["kernel", name] {
        let mut colon = Punct::new(':', Spacing::Joint);
        colon.set_span(span);
        call.push(TokenTree::Punct(colon));
        let mut colon = Punct::new(':', Spacing::Alone);
        colon.set_span(span);
        call.push(TokenTree::Punct(colon));
        call.push(TokenTree::Ident(Ident::new(segment, span)));
    }
    let mut bang = Punct::new('!', Spacing::Alone);
    bang.set_span(span);
    call.push(TokenTree::Punct(bang));
    let mut group = Group::new(Delimiter::Parenthesis, args);
    group.set_span(span);
    call.push(TokenTree::Group(group));
    call
}

/// Rewrites `assert!`, `assert_eq!` and `assert_ne!` in `stream` into KUnit assertions.
fn rewrite_asserts(stream: TokenStream, suite: &str) -> TokenStream {
    let tokens: Vec<TokenTree> = stream.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        // A macro call is `name ! (args)`; only bare (unqualified) names are rewritten, so that
        // an explicit `core::assert!` still means the panicking one.
        let qualified =
            i > 0 && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == ':');
        if let (
            TokenTree::Ident(ident),
            Some(TokenTree::Punct(bang)),
            Some(TokenTree::Group(args)),
        ) = (&tokens[i], tokens.get(i + 1), tokens.get(i + 2))
        {
            let name = ident.to_string();
            if !qualified
                && bang.as_char() == '!'
                && matches!(name.as_str(), "assert" | "assert_eq" | "assert_ne")
            {
                let span = ident.span();
                let inner = rewrite_asserts(args.stream(), suite);
                let prefix: TokenStream = format!("{suite:?}, ::core::file!(), 0,")
                    .parse()
                    .expect("the assertion prefix is valid Rust");
                let mut new_args = TokenStream::new();
                new_args.extend(prefix.into_iter().map(|mut t| {
                    t.set_span(span);
                    t
                }));
                let target = match name.as_str() {
                    "assert" => "kunit_assert",
                    "assert_eq" => "kunit_assert_eq",
                    _ => "kunit_assert_ne",
                };
                new_args.extend(inner);
                out.extend(kernel_macro_call(span, target, new_args));
                i += 3;
                continue;
            }
        }
        match &tokens[i] {
            TokenTree::Group(group) => {
                let mut new = Group::new(group.delimiter(), rewrite_asserts(group.stream(), suite));
                new.set_span(group.span());
                out.push(TokenTree::Group(new));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

pub(crate) fn kunit_tests(attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr: Vec<TokenTree> = attr.into_iter().collect();
    let suite = match attr.as_slice() {
        [TokenTree::Ident(ident)] => ident.to_string(),
        _ => {
            return compile_error(
                "expected the suite name as an identifier: `#[kunit_tests(my_suite)]`",
                Span::call_site(),
            )
        }
    };
    if suite.len() >= KUNIT_SUITE_NAME_SIZE {
        return compile_error(
            &format!("the suite name must be shorter than {KUNIT_SUITE_NAME_SIZE} bytes"),
            Span::call_site(),
        );
    }

    // The item must be an inline module: `[attributes] [visibility] mod name { ... }`.
    let mut head: Vec<TokenTree> = item.into_iter().collect();
    let body = match head.pop() {
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => group,
        _ => {
            return compile_error(
                "#[kunit_tests] applies to an inline module: `mod tests { ... }`",
                Span::call_site(),
            )
        }
    };
    if !head
        .iter()
        .any(|t| matches!(t, TokenTree::Ident(ident) if ident.to_string() == "mod"))
    {
        return compile_error(
            "#[kunit_tests] applies to an inline module: `mod tests { ... }`",
            body.span(),
        );
    }

    // Find the `#[test]` functions, dropping the attribute itself: `#[test]` means something
    // else to rustc, and the kernel is never built with `--test`.
    let mut tests = Vec::new();
    let mut kept = Vec::new();
    let mut pending_test: Option<Span> = None;
    let mut expect_name = false;
    let mut tokens = body.stream().into_iter().peekable();
    while let Some(token) = tokens.next() {
        if let TokenTree::Punct(punct) = &token {
            if punct.as_char() == '#' {
                if let Some(TokenTree::Group(group)) = tokens.peek() {
                    if group.delimiter() == Delimiter::Bracket && is_test_attribute(group) {
                        pending_test = Some(punct.span());
                        tokens.next();
                        continue;
                    }
                }
            }
        }
        match &token {
            TokenTree::Ident(ident) if expect_name => {
                tests.push(ident.to_string());
                expect_name = false;
            }
            TokenTree::Ident(ident) if pending_test.is_some() && ident.to_string() == "fn" => {
                pending_test = None;
                expect_name = true;
            }
            TokenTree::Group(group)
                if pending_test.is_some() && group.delimiter() == Delimiter::Brace =>
            {
                return compile_error("#[test] must be followed by a function", group.span());
            }
            TokenTree::Punct(punct) if pending_test.is_some() && punct.as_char() == ';' => {
                return compile_error("#[test] must be followed by a function", punct.span());
            }
            _ => {}
        }
        kept.push(token);
    }
    if let Some(span) = pending_test {
        return compile_error("#[test] must be followed by a function", span);
    }
    if tests.is_empty() {
        return compile_error(
            "a #[kunit_tests] module needs at least one #[test] function",
            body.span(),
        );
    }

    let mut generated = String::new();
    for test in &tests {
        generated.push_str(&format!(
            r#"
            #[doc(hidden)]
            extern "C" fn __kunit_case_{test}(_test: *mut ::kernel::bindings::kunit) {{
                // A test that returns an `Err` fails; KUnit reports it as this expression.
                let test_returned_ok = ::kernel::kunit::is_test_result_ok({test}());
                ::kernel::kunit_assert!("{test}", ::core::file!(), 0, test_returned_ok);
            }}
            "#
        ));
    }
    generated.push_str(&format!(
        "#[doc(hidden)]\nstatic mut __KUNIT_CASES: [::kernel::bindings::kunit_case; {}] = [\n",
        tests.len() + 1
    ));
    for test in &tests {
        generated.push_str(&format!(
            "::kernel::kunit::kunit_case(::kernel::c_str!(\"{test}\"), __kunit_case_{test}),\n"
        ));
    }
    generated.push_str("::kernel::kunit::kunit_case_null(),\n];\n");
    generated.push_str(&format!(
        "::kernel::kunit_unsafe_test_suite!({suite}, __KUNIT_CASES);\n"
    ));

    let mut new_body = rewrite_asserts(kept.into_iter().collect(), &suite);
    new_body.extend(
        generated
            .parse::<TokenStream>()
            .expect("the generated KUnit glue is valid Rust"),
    );

    // The suite needs KUnit built in: `kunit_case` and friends are only linkable then.
    let mut out: TokenStream = "#[cfg(CONFIG_KUNIT)]".parse().expect("valid attribute");
    out.extend(head);
    let mut group = Group::new(Delimiter::Brace, new_body);
    group.set_span(body.span());
    out.extend([TokenTree::Group(group)]);
    out
}
