// Syntax colouring for rule files: a stream tokenizer over the words of
// grammar/callassign.pest. Colouring only; the service checks the text.
import {StreamLanguage, HighlightStyle, syntaxHighlighting} from '@codemirror/language';
import {tags} from '@lezer/highlight';

const KEYWORDS = new Set([
  'ruleset', 'extends', 'step', 'disable', 'move', 'fallback', 'when', 'unless',
  'user', 'before', 'after', 'first', 'last',
]);
const OPERATOR_WORDS = new Set(['and', 'or', 'not', 'in', 'starts_with']);
const STEP_KINDS = new Set([
  'call_agent', 'last_step_agent', 'voicemail_email', 'contact_owner', 'favorite_agent',
  'integration', 'unassigned',
]);
const FIELDS = new Set([
  'direction', 'status', 'agent', 'tags', 'number', 'duration', 'started_at', 'contact',
  'contact.id', 'contact.owner', 'contact.favorite_agent', 'last_step',
]);
const VALUES = new Set(['null', 'incoming', 'outgoing', 'internal', 'answered', 'missed', 'voicemail']);

const rules = StreamLanguage.define({
  name: 'callassign',
  startState: () => ({afterHeader: null}),
  token(stream, state) {
    if (stream.eatSpace()) return null;
    if (stream.peek() === '#') {
      stream.skipToEnd();
      return 'comment';
    }
    if (stream.peek() === '"') {
      stream.next();
      let escaped = false;
      while (!stream.eol()) {
        const char = stream.next();
        if (char === '"' && !escaped) break;
        escaped = !escaped && char === '\\';
      }
      return 'string';
    }
    if (stream.match(/^-?\d+(?![A-Za-z0-9_-])/)) return 'number';
    if (stream.match(/^(==|!=|<=|>=|<|>|=)/)) return 'operator';
    if (stream.match(/^[[\](),]/)) return 'punctuation';
    const word = stream.match(/^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z_][A-Za-z0-9_-]*)*/);
    if (word) {
      const text = word[0];
      const after = state.afterHeader;
      state.afterHeader = text === 'ruleset' || text === 'extends' ? text : null;
      if (after) return 'variableName.definition';
      if (KEYWORDS.has(text)) return 'keyword';
      if (OPERATOR_WORDS.has(text)) return 'operatorKeyword';
      if (STEP_KINDS.has(text)) return 'atom';
      if (FIELDS.has(text)) return 'propertyName';
      if (VALUES.has(text)) return 'literal';
      return 'variableName';
    }
    stream.next();
    return null;
  },
  languageData: {commentTokens: {line: '#'}},
});

const style = HighlightStyle.define([
  {tag: tags.comment, color: '#5c6370', fontStyle: 'italic'},
  {tag: tags.keyword, color: '#7a1fa2', fontWeight: '600'},
  {tag: tags.operatorKeyword, color: '#a0420f'},
  {tag: tags.operator, color: '#a0420f'},
  {tag: tags.string, color: '#1b6e3a'},
  {tag: tags.number, color: '#0b5cad'},
  {tag: tags.atom, color: '#0b5cad', fontWeight: '600'},
  {tag: tags.propertyName, color: '#8a5300'},
  {tag: tags.literal, color: '#0b5cad'},
  {tag: tags.definition(tags.variableName), color: '#1d2330', fontWeight: '600'},
]);

export const ruleLanguage = [rules, syntaxHighlighting(style)];
