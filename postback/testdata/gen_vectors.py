#!/usr/bin/env python3
"""Independent implementation of the s2s v1 signed query, used to produce vectors.json.

It shares no code with the Go package: it decodes with the form rules ('+' is a space,
%XX in either case), encodes with urllib.parse.quote(safe='-._~'), sorts bytewise by
encoded key then encoded value, and signs with hmac/hashlib.

Run: python3 gen_vectors.py > vectors.json
"""
import hashlib
import hmac
import json
import urllib.parse

SECRET = b"s2s-test-secret-0123456789abcdef"  # 32 bytes
SECRET2 = b"another-secret-for-rotation-42!!"


def decode(s):
    return urllib.parse.unquote_to_bytes(s.replace("+", " "))


def enc(b):
    return urllib.parse.quote(b, safe="-._~")


def canonical(raw_query):
    pairs = []
    for seg in raw_query.split("&"):
        if seg == "":
            continue
        k, _, v = seg.partition("=")
        ek, ev = enc(decode(k)), enc(decode(v))
        if ek == "sig":
            continue
        pairs.append((ek, ev))
    pairs.sort(key=lambda p: (p[0].encode(), p[1].encode()))
    return "&".join(k + "=" + v for k, v in pairs)


def vector(name, path, query, secret=SECRET, kid=""):
    c = canonical(query)
    sts = "s2s-v1\n" + path + "\n" + c
    sig = hmac.new(secret, sts.encode(), hashlib.sha256).hexdigest()
    return {
        "name": name,
        "secret": secret.decode(),
        "kid": kid,
        "path": path,
        "query": query,
        "canonical_query": c,
        "string_to_sign": sts,
        "sig": sig,
        "signed_query": query + "&sig=" + sig,
    }


TS = "1732350000"
V = [
    vector("vanilla", "/postback",
           "click_id=01j3st4z2efcd9y00w5mz4ypkb&event=ftd&amount=150.00&currency=EUR&txn_id=TX-99812&ts=" + TS),
    vector("unsorted-input", "/postback",
           "txn_id=TX-1&event=deposit&ts=" + TS + "&amount=20.00&click_id=abc&currency=USD"),
    vector("unicode-value", "/postback", "click_id=abc&player_id=J%C3%BCrgen%20M%C3%BCller&event=registration&ts=" + TS),
    vector("unicode-raw-key-encoded", "/postback", "click_id=abc&event=ftd&%E2%82%AC=1&ts=" + TS),
    vector("empty-values", "/postback", "click_id=abc&event=ftd&sub1=&sub2&ts=" + TS),
    vector("plus-is-space", "/postback", "click_id=abc&event=ftd&sub1=a+b&ts=" + TS),
    vector("percent-2B-is-plus", "/postback", "click_id=abc&event=ftd&sub1=a%2Bb&ts=" + TS),
    vector("percent-20-is-space", "/postback", "click_id=abc&event=ftd&sub1=a%20b&ts=" + TS),
    vector("key-prefixes-another", "/postback", "id-type=x&id=1&click_id=abc&event=ftd&ts=" + TS),
    vector("key-prefix-sort-bytewise", "/postback", "sub10=j&sub1=a&sub1_x=z&click_id=abc&event=ftd&ts=" + TS),
    vector("lower-case-hex-in-input", "/postback", "click_id=abc&event=ftd&sub1=%c3%a9%2f&ts=" + TS),
    vector("upper-case-hex-in-input", "/postback", "click_id=abc&event=ftd&sub1=%C3%A9%2F&ts=" + TS),
    vector("unreserved-escaped", "/postback", "click_id=%61bc&event=ft%64&sub1=%7E%2D%2E%5F&ts=" + TS),
    vector("reserved-raw", "/postback", "click_id=abc&event=ftd&sub1=a:b/c,d@e!f*g'h(i)j$k&ts=" + TS),
    vector("with-kid", "/postback", "click_id=abc&event=ftd&kid=2024-q4&ts=" + TS, secret=SECRET2, kid="2024-q4"),
    vector("encoded-path", "/post%20back/k%C3%A9y", "click_id=abc&event=ftd&ts=" + TS),
    vector("delimiter-in-value", "/postback", "a=1%26b%3D2&click_id=abc&event=ftd&ts=" + TS),
    vector("empty-segments", "/postback", "&click_id=abc&&event=ftd&ts=" + TS + "&"),
]

if __name__ == "__main__":
    print(json.dumps(V, indent=2, ensure_ascii=False))
