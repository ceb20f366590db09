import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytesToHex } from '@devp2p/core';
test('hex', () => { assert.equal(bytesToHex(new Uint8Array([1, 255])), '01ff'); console.log(import.meta.url); });
