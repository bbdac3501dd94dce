'use strict';
// What a browser gives the SDK and node does not: `window.location`, `sessionStorage`, and a
// `fetch` that behaves as a browser's toward another origin. The SDK's own code makes every call;
// this only stands in for the browser underneath it:
// - CORS: a preflight for non-simple requests, and the response refused (TypeError, as browsers
//   do) unless the server allows this origin, with credentials when they are sent;
// - cookies: kept from `Set-Cookie` and sent back when `credentials` allow it, by host, path,
//   expiry, `Secure` and `SameSite`; never visible to the page (HttpOnly or not, the SDK never
//   reads them);
// - only CORS-safelisted and exposed response headers are visible to the page.

const nodeFetch = globalThis.fetch;

const SIMPLE_METHODS = new Set(['GET', 'HEAD', 'POST']);
const SAFELISTED_REQUEST_HEADERS = new Set(['accept', 'accept-language', 'content-language']);
const SIMPLE_CONTENT_TYPES = new Set([
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'text/plain',
]);
const SAFELISTED_RESPONSE_HEADERS = new Set([
  'cache-control',
  'content-language',
  'content-length',
  'content-type',
  'expires',
  'last-modified',
  'pragma',
]);

class CookieJar {
  constructor() {
    /** @type {{name:string,value:string,host:string,path:string,expires:number,secure:boolean,sameSite:string,httpOnly:boolean}[]} */
    this.cookies = [];
  }

  store(url, setCookie) {
    const [pair, ...attributes] = setCookie.split(';');
    const eq = pair.indexOf('=');
    if (eq < 1) return;
    const cookie = {
      name: pair.slice(0, eq).trim(),
      value: pair.slice(eq + 1).trim(),
      host: url.hostname,
      path: '/',
      expires: Infinity,
      secure: false,
      sameSite: 'lax', // browsers' default when the attribute is missing
      httpOnly: false,
    };
    let defaultPath = url.pathname.slice(0, url.pathname.lastIndexOf('/')) || '/';
    cookie.path = defaultPath;
    for (const attribute of attributes) {
      const [key, ...rest] = attribute.trim().split('=');
      const value = rest.join('=');
      switch (key.toLowerCase()) {
        case 'path':
          cookie.path = value.startsWith('/') ? value : defaultPath;
          break;
        case 'max-age':
          cookie.expires = Date.now() + Number(value) * 1000;
          break;
        case 'expires':
          if (!attributes.some((a) => a.trim().toLowerCase().startsWith('max-age='))) {
            cookie.expires = Date.parse(value);
          }
          break;
        case 'secure':
          cookie.secure = true;
          break;
        case 'httponly':
          cookie.httpOnly = true;
          break;
        case 'samesite':
          cookie.sameSite = value.toLowerCase();
          break;
        default:
          break;
      }
    }
    // A Secure cookie is never set over plain HTTP; SameSite=None requires Secure.
    if (cookie.secure && url.protocol !== 'https:') return;
    if (cookie.sameSite === 'none' && !cookie.secure) return;
    this.cookies = this.cookies.filter(
      (c) => !(c.name === cookie.name && c.host === cookie.host && c.path === cookie.path),
    );
    if (cookie.expires > Date.now()) this.cookies.push(cookie);
  }

  header(url, sameSite) {
    const now = Date.now();
    this.cookies = this.cookies.filter((c) => c.expires > now);
    const matching = this.cookies.filter(
      (c) =>
        c.host === url.hostname &&
        (url.pathname === c.path ||
          url.pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`)) &&
        (!c.secure || url.protocol === 'https:') &&
        (c.sameSite === 'none' || sameSite),
    );
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** Names of the cookies held for `host`, for assertions. */
  names(host) {
    const now = Date.now();
    return this.cookies.filter((c) => c.host === host && c.expires > now).map((c) => c.name);
  }

  get(host, name) {
    const now = Date.now();
    return this.cookies.find((c) => c.host === host && c.name === name && c.expires > now);
  }
}

function corsError(reason) {
  const error = new TypeError('Failed to fetch');
  error.cause = new Error(`CORS: ${reason}`);
  return error;
}

/** Whether two URLs are schemefully same-site (hosts compared whole: no public-suffix list). */
function sameSite(a, b) {
  return a.protocol === b.protocol && a.hostname === b.hostname;
}

function checkAllowOrigin(response, origin, withCredentials) {
  const allowOrigin = response.headers.get('access-control-allow-origin');
  if (allowOrigin !== origin && !(allowOrigin === '*' && !withCredentials)) {
    throw corsError(`origin ${origin} not allowed (allow-origin: ${allowOrigin})`);
  }
  if (withCredentials && response.headers.get('access-control-allow-credentials') !== 'true') {
    throw corsError('credentials not allowed');
  }
}

/**
 * Installs a browser page at `pageUrl` into this node process.
 * @returns {{jar: CookieJar, requests: {method:string,url:string,headers:Record<string,string>}[]}}
 */
function installBrowser(pageUrl) {
  const page = new URL(pageUrl);
  const jar = new CookieJar();
  const requests = [];
  const storage = new Map();
  globalThis.window = { location: page };
  globalThis.sessionStorage = {
    getItem: (k) => (storage.has(k) ? storage.get(k) : null),
    setItem: (k, v) => storage.set(k, String(v)),
    removeItem: (k) => storage.delete(k),
  };

  globalThis.fetch = async (input, init = {}) => {
    const url = new URL(typeof input === 'string' ? input : input.url, page);
    const method = (init.method || 'GET').toUpperCase();
    const headers = new Headers(init.headers || {});
    const credentials = init.credentials || 'same-origin';
    const crossOrigin = url.origin !== page.origin;
    const withCredentials = credentials === 'include' || (credentials === 'same-origin' && !crossOrigin);

    if (crossOrigin) {
      const unsafe = [...headers.keys()].filter((name) => {
        if (SAFELISTED_REQUEST_HEADERS.has(name)) return false;
        if (name === 'content-type') {
          return !SIMPLE_CONTENT_TYPES.has(headers.get(name).split(';')[0].trim().toLowerCase());
        }
        return true;
      });
      if (!SIMPLE_METHODS.has(method) || unsafe.length > 0) {
        const preflight = await nodeFetch(url, {
          method: 'OPTIONS',
          headers: {
            origin: page.origin,
            'access-control-request-method': method,
            ...(unsafe.length ? { 'access-control-request-headers': unsafe.sort().join(',') } : {}),
          },
        });
        requests.push({ method: 'OPTIONS', url: url.href, headers: {} });
        if (!preflight.ok) throw corsError(`preflight answered ${preflight.status}`);
        checkAllowOrigin(preflight, page.origin, withCredentials);
        const allowedMethods = (preflight.headers.get('access-control-allow-methods') || '')
          .split(',')
          .map((m) => m.trim().toUpperCase());
        if (!SIMPLE_METHODS.has(method) && !allowedMethods.includes(method)) {
          throw corsError(`method ${method} not allowed`);
        }
        const allowedHeaders = (preflight.headers.get('access-control-allow-headers') || '')
          .split(',')
          .map((h) => h.trim().toLowerCase());
        for (const name of unsafe) {
          if (!allowedHeaders.includes(name) && !(allowedHeaders.includes('*') && !withCredentials)) {
            throw corsError(`request header ${name} not allowed`);
          }
        }
      }
      headers.set('origin', page.origin);
    }
    if (withCredentials) {
      const cookie = jar.header(url, sameSite(url, page));
      if (cookie) headers.set('cookie', cookie);
    }
    requests.push({ method, url: url.href, headers: Object.fromEntries(headers) });
    const response = await nodeFetch(url, { method, headers, body: init.body, redirect: 'manual' });
    if (crossOrigin) checkAllowOrigin(response, page.origin, withCredentials);
    if (withCredentials) {
      for (const setCookie of response.headers.getSetCookie()) jar.store(url, setCookie);
    }
    // The page sees only safelisted headers and those the server exposes.
    const exposed = new Set(
      (response.headers.get('access-control-expose-headers') || '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    );
    const visible = new Headers();
    for (const [name, value] of response.headers) {
      if (name === 'set-cookie' || name === 'set-cookie2') continue;
      if (!crossOrigin || SAFELISTED_RESPONSE_HEADERS.has(name) || exposed.has(name)) {
        visible.append(name, value);
      }
    }
    const body = [101, 204, 205, 304].includes(response.status) ? null : await response.arrayBuffer();
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: visible,
    });
  };
  return { jar, requests };
}

module.exports = { installBrowser, CookieJar };
