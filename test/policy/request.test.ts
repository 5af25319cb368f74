import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Issue } from '../../src/domain/errors.js';
import { typedContext } from '../../src/policy/request.js';
import { actionKey, parseSchema } from '../../src/policy/schema.js';

const schema = parseSchema('test.cedarschema', `namespace Cordon {
  entity Team;
  entity Bot in [Team];
  type Limits = { max: Long, labels?: Set<String> };
  action "call" appliesTo { principal: [Bot], resource: [Bot], context: { team: Team, from: ipaddr, limits: Limits, urgent?: Bool } };
}`);
const contextType = schema.actions.get(actionKey('Cordon::Action', 'call'))!.context;

function check(value: Record<string, unknown>): { typed: unknown; issues: Issue[] } {
  const issues: Issue[] = [];
  return { typed: typedContext(schema, contextType, value, issues), issues };
}

describe('request contexts checked against the schema', () => {
  test('entity references and extension values are put in Cedar\'s JSON form', () => {
    const { typed, issues } = check({ team: { type: 'Cordon::Team', id: 'ml' }, from: '10.1.2.3', limits: { max: 3, labels: ['a'] } });
    assert.deepEqual(issues, []);
    assert.deepEqual(typed, {
      team: { __entity: { type: 'Cordon::Team', id: 'ml' } },
      from: { __extn: { fn: 'ip', arg: '10.1.2.3' } },
      limits: { max: 3, labels: ['a'] },
    });
  });

  test('each field that does not fit is named: wrong types, missing ones, undeclared ones, unsafe integers', () => {
    const { typed, issues } = check({ team: { type: 'Cordon::Bot', id: 'x' }, from: 7, limits: { max: 2 ** 60, labels: [1] }, urgent: 'yes', extra: null });
    assert.equal(typed, undefined);
    assert.deepEqual(issues.map((i) => i.path).sort(), ['/context/extra', '/context/from', '/context/limits/labels/0', '/context/limits/max', '/context/team', '/context/urgent']);
    assert.deepEqual(check({}).issues.map((i) => [i.path, i.message]), [['/context/from', 'is required'], ['/context/limits', 'is required'], ['/context/team', 'is required']]);
  });
});
