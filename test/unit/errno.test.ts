import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { describe, it } from 'node:test';

import { ErrnoTable, errnoName, errnoOf, errnoTableOf } from '../../src/errno.js';

describe('errno', () => {
  it('names errnos with the host table', () => {
    assert.equal(errnoName(errnoOf('EBADMSG')), 'EBADMSG');
    assert.equal(errnoName(errnoOf('EINVAL')), 'EINVAL');
    assert.equal(errnoName(99999), 'E99999');
    assert.throws(() => errnoOf('ENOTANERRNO'), TypeError);
  });

  it("starts from Node's numbers, names an alias's number as programs test for it, and knows the kernel's names Node lacks", () => {
    assert.equal(errnoOf('ENOENT'), constants.errno.ENOENT);
    assert.equal(errnoName(errnoOf('EWOULDBLOCK')), 'EAGAIN');
    assert.equal(errnoName(errnoOf('ENOTSUP')), 'EOPNOTSUPP');
    for (const name of ['ERESTART', 'ESHUTDOWN', 'ESOCKTNOSUPPORT', 'ENOKEY', 'EKEYREJECTED', 'EKEYREVOKED', 'EKEYEXPIRED', 'ENOPKG']) {
      assert.equal(typeof errnoOf(name), 'number', name);
    }
  });

  it('a table given later renumbers names but never renames a number', () => {
    const t = new ErrnoTable({ EAGAIN: 11, EPERM: 1 }, { EWOULDBLOCK: 11, EPERM: 3 });
    assert.equal(t.name(11), 'EAGAIN');
    assert.equal(t.number('EPERM'), 3);
    assert.equal(t.name(3), 'EPERM');
    assert.equal(t.name(1), undefined);
    assert.equal(t.is(11, 'ENOENT', 'EWOULDBLOCK'), true);
    assert.equal(t.is(11, 'ENOTANERRNO'), false);
    assert.equal(t.code(36), 'errno 36');
  });

  it("a probe's table is what its source reports, empty when the source throws", () => {
    assert.equal(errnoTableOf({ errnoTable: () => ({ ENOENT: 2 }) }).code(2), 'ENOENT');
    assert.equal(
      errnoTableOf({
        errnoTable: () => {
          throw new Error('no table');
        },
      }).code(2),
      'errno 2',
    );
    assert.equal(errnoTableOf(null).code(2), 'errno 2');
  });
});
