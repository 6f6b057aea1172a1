/**
 * The reason phrase of every 4xx and 5xx code node:http names (IANA's registry, RFC 9110
 * and after, and a few in common use), plus nginx's 499 for a canceled call. Written out
 * rather than read from node:http's STATUS_CODES: loading node:http costs a service's
 * start-up tens of milliseconds, and a test checks that the two agree.
 */
const statusText: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  417: 'Expectation Failed',
  418: "I'm a Teapot",
  421: 'Misdirected Request',
  422: 'Unprocessable Entity',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  509: 'Bandwidth Limit Exceeded',
  510: 'Not Extended',
  511: 'Network Authentication Required',
}

/**
 * The reason phrase for an HTTP-style status code (`status` on the wire). A 4xx or 5xx
 * code without one of its own gets its class's name, "Client Error" or "Server Error"
 * (RFC 9110, section 15); any other unknown code gets ''.
 */
export function statusFor(code: number): string {
  const text = statusText[code]
  if (text !== undefined) return text
  if (Number.isInteger(code) && code >= 400 && code <= 499) return 'Client Error'
  if (Number.isInteger(code) && code >= 500 && code <= 599) return 'Server Error'
  return ''
}
