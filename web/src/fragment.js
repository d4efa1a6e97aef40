// The state a link reproduces, in the URL fragment (never sent to the
// service): `#ruleset=NAME&rules=TEXT&call=TEXT&input=auto`.

const INPUTS = new Set(['auto', 'native', 'cloudtalk']);

export function writeFragment({ruleset, rules, call, input}) {
  const parameters = new URLSearchParams();
  parameters.set('ruleset', ruleset);
  parameters.set('rules', rules);
  if (call) parameters.set('call', call);
  if (input && input !== 'auto') parameters.set('input', input);
  return parameters.toString();
}

export function readFragment(fragment) {
  const parameters = new URLSearchParams(fragment);
  const shared = {};
  if (parameters.has('ruleset')) shared.ruleset = parameters.get('ruleset');
  if (parameters.has('rules')) shared.rules = parameters.get('rules');
  if (parameters.has('call')) shared.call = parameters.get('call');
  const input = parameters.get('input');
  if (input && INPUTS.has(input)) shared.input = input;
  return shared;
}
