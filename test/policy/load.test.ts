import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { InvalidInputError } from '../../src/domain/errors.js';
import { readPolicyDir } from '../../src/policy/files.js';
import { GUARD_POLICY_ID } from '../../src/policy/guard.js';
import { loadBundle, type BundleInput, type PolicyDocument } from '../../src/policy/load.js';

const POLICY_DIR = new URL('../../policies/', import.meta.url).pathname;
const schema: PolicyDocument = { name: 'cordon.cedarschema', text: readFileSync(`${POLICY_DIR}cordon.cedarschema`, 'utf8') };

function rejection(input: BundleInput): InvalidInputError {
  try {
    loadBundle(input);
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  assert.fail('the policy set was accepted');
}

describe('loading and validating policy sets', () => {
  test('the shipped policy directory validates, with ids from @id annotations and the guard last', async () => {
    const bundle = loadBundle(await readPolicyDir(POLICY_DIR));
    const ids = bundle.policies.map((p) => p.id);
    assert.ok(ids.includes('agents.support.tools'));
    assert.equal(ids.at(-1), GUARD_POLICY_ID);
    assert.equal(bundle.policies.find((p) => p.id === 'agents.support.tools')!.source, 'agents.cedar:4:1');
    assert.deepEqual(bundle.warnings, []);
  });

  test('a syntax error names the document, line and column, and the policy it is in', () => {
    const error = rejection({ schema, policies: [{ name: 'tools.cedar', text: 'permit (principal, action, resource);\n\n@id("broken")\npermit (principal, action, resource)\n  when { context.x < };\n' }] });
    assert.equal(error.code, 'ERR_POLICY_INVALID');
    assert.equal(error.issues.length, 1);
    assert.equal(error.issues[0]!.source, 'tools.cedar:5:22');
    assert.match(error.issues[0]!.message, /^policy "broken": .*unexpected token `\}`/);
    assert.match(error.message, /tools\.cedar:5:22 policy "broken"/);
  });

  test('a schema error names the policy and where in its document the offending expression is', () => {
    const error = rejection({ schema, policies: [{ name: 'agents.cedar', text: '// an agent policy\n@id("typo")\npermit (principal is Cordon::AiAgent, action == Cordon::Action::"tool.call", resource)\n  when { principal.nme == "x" };\n' }] });
    assert.deepEqual(error.issues.map((i) => [i.path, i.source]), [['/policies/typo', 'agents.cedar:4:10']]);
    assert.match(error.issues[0]!.message, /policy "typo": .*attribute `nme` on entity type `Cordon::AiAgent` not found/);
  });

  test('a policy without @id is named after its document and rank', () => {
    const bundle = loadBundle({ schema, policies: [{ name: 'a.cedar', text: 'forbid (principal, action, resource) when { context.time.hour < 2 };\npermit (principal is Cordon::Bot, action == Cordon::Action::"tool.call", resource);' }] });
    assert.deepEqual(bundle.policies.map((p) => [p.id, p.source]), [['a.cedar#1', 'a.cedar:1:1'], ['a.cedar#2', 'a.cedar:2:1'], [GUARD_POLICY_ID, 'built-in guard']]);
  });

  test('a loaded policy cannot take the guard\'s id, nor any id reserved for Cordon, nor one already used', () => {
    const error = rejection({ schema, policies: [
      { name: 'a.cedar', text: `@id("${GUARD_POLICY_ID}")\npermit (principal, action, resource);` },
      { name: 'b.cedar', text: '@id("same") permit (principal, action, resource);\n@id("same") forbid (principal, action, resource);' },
    ] });
    assert.deepEqual(error.issues.map((i) => i.source), ['a.cedar:1:1', 'b.cedar:2:1']);
    assert.match(error.issues[0]!.message, /reserved/);
    assert.match(error.issues[1]!.message, /"same" is already defined at b\.cedar:1:1/);
  });

  test('templates are refused with their position', () => {
    const error = rejection({ schema, policies: [{ name: 't.cedar', text: 'permit (principal, action, resource);\npermit (principal == ?principal, action, resource);' }] });
    assert.equal(error.issues[0]!.source, 't.cedar:2:1');
    assert.match(error.issues[0]!.message, /templates/);
  });

  test('a schema without the risk the guard reads is refused, saying why', () => {
    const error = rejection({ schema: { name: 's.cedarschema', text: 'namespace Cordon { entity Bot; entity Tool; action "tool.call" appliesTo { principal: [Bot], resource: [Tool] }; }' }, policies: [] });
    assert.equal(error.issues[0]!.path, `/policies/${GUARD_POLICY_ID}`);
    assert.match(error.issues[0]!.message, /needs `risk: Cordon::Risk` in the context of every action/);
  });

  test('a schema that does not parse names its line and column', () => {
    assert.throws(() => loadBundle({ schema: { name: 's.cedarschema', text: 'namespace Cordon {\n  entity A = { a: Strin };\n}' }, policies: [] }), (error: InvalidInputError) => {
      assert.equal(error.code, 'ERR_POLICY_SCHEMA');
      assert.equal(error.issues[0]!.source, 's.cedarschema:2:19');
      return true;
    });
  });

  test('entities must fit the schema, and identities come from the inventory, not from files', () => {
    const wrongType = rejection({ schema, policies: [], entities: { name: 'entities.json', text: JSON.stringify([{ uid: { type: 'Cordon::Tool', id: 't' }, attrs: { risk: 3 }, parents: [] }]) } });
    assert.match(wrongType.issues[0]!.message, /attribute `risk`/);
    const identity = rejection({ schema, policies: [], entities: { name: 'entities.json', text: JSON.stringify([{ uid: { type: 'Cordon::AiAgent', id: 'a' }, attrs: {}, parents: [] }]) } });
    assert.match(identity.issues[0]!.message, /come from the inventory/);
    assert.equal(identity.issues[0]!.path, '/entities/0');
  });

  test('every problem of a set is reported at once', () => {
    const error = rejection({ schema, policies: [
      { name: 'a.cedar', text: 'permit (principal, action, resource) when { };' },
      { name: 'b.cedar', text: 'permit (principal, action, resource) when { context.nope };' },
    ] });
    // The syntax error stops validation, but both documents were read.
    assert.equal(error.issues.length, 1);
    const typed = rejection({ schema, policies: [
      { name: 'a.cedar', text: '@id("x") permit (principal, action, resource) when { context.nope };' },
      { name: 'b.cedar', text: '@id("y") permit (principal, action, resource) when { principal.nope };' },
    ] });
    assert.deepEqual([...new Set(typed.issues.map((i) => i.path))].sort(), ['/policies/x', '/policies/y']);
  });
});
