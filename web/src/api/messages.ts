// Server text in the reader's language. The server sends a catalog code with named arguments
// beside its English message (row problems, rule descriptions, import summaries); the catalog
// itself is messages.json, generated from the Go catalog (package msg, plus the tape's field
// labels) by `RECLAIM_UPDATE_MESSAGES=1 go test ./tape -run TestConsoleCatalogUpToDate`, and a Go
// test fails when it is out of date: one source of truth for the CLI and the console.
import catalog from './messages.json'

type Text = { en: string; zh: string }
const CATALOG = catalog as Record<string, Text>

export type ServerLang = 'en' | 'zh'

/** serverLang maps a console locale ('zh-CN', 'en') to the catalog's language. */
export function serverLang(locale: string): ServerLang {
  return locale.toLowerCase().startsWith('zh') ? 'zh' : 'en'
}

function fieldLabel(lang: ServerLang, name: string): string {
  return CATALOG['field.' + name]?.[lang] || name
}

/** fill replaces {name} with args[name], as msg.Render does: "field" and "fields" are shown by
 * their labels; a placeholder without an argument is left as written. */
function fill(tmpl: string, lang: ServerLang, args: Record<string, string>): string {
  return tmpl.replace(/\{([a-z0-9_]+)\}/g, (whole, name: string) => {
    if (!Object.prototype.hasOwnProperty.call(args, name)) return whole
    const v = String(args[name])
    if (name === 'field') return fieldLabel(lang, v)
    if (name === 'fields') return v ? v.split(', ').map((f) => fieldLabel(lang, f)).join(lang === 'zh' ? '、' : ', ') : v
    return v
  })
}

/** serverText renders a server message in the locale, or returns fallback (the server's English
 * message) when the code is missing or unknown to this build of the console. */
export function serverText(locale: string, code: string | undefined | null, args?: Record<string, string> | null, fallback = ''): string {
  if (!code) return fallback
  const t = CATALOG[code]
  if (!t) return fallback
  const lang = serverLang(locale)
  return fill(t[lang] || t.en, lang, args || {})
}

/** fieldName shows a canonical field name by its label in the locale. */
export function fieldName(locale: string, name: string): string {
  return fieldLabel(serverLang(locale), name)
}
