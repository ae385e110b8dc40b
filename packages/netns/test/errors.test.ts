import { closeSync, openSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  connectInNamespace,
  createSocketFd,
  isNetnsError,
  namespaceId,
  netnsSupport,
  NetnsError,
  originalDestination,
} from '../src/index.ts';
import { addonAvailable } from './namespaces.ts';

describe('availability', () => {
  it('says whether the native addon is usable here, with a reason when it is not', () => {
    const support = netnsSupport();
    if (support.available) expect(support).toEqual({ available: true });
    else expect(support.reason).toMatch(/\S/);
  });
});

describe.skipIf(!addonAvailable)('typed errors (needs the native addon)', () => {
  it('a bad fd gives ERRNO with errno EBADF and the syscall', () => {
    const error = (() => {
      try {
        namespaceId(987_654);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(NetnsError);
    expect(isNetnsError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'ERRNO', errno: 'EBADF', syscall: 'fstat' });
    expect((error as Error).message).toContain('namespace fd 987654');
  });

  it('an fd that is not a network namespace gives NOT_A_NAMESPACE', () => {
    const fd = openSync('/proc/self/stat', 'r');
    try {
      expect(() => namespaceId(fd)).toThrow(expect.objectContaining({ code: 'NOT_A_NAMESPACE' }));
    } finally {
      closeSync(fd);
    }
  });

  it('entering something that is not a namespace gives SETNS_FAILED with errno EINVAL', () => {
    const fd = openSync('/proc/self/stat', 'r');
    try {
      expect(() => createSocketFd(4, { netns: fd })).toThrow(
        expect.objectContaining({ code: 'SETNS_FAILED', errno: 'EINVAL', syscall: 'setns' }),
      );
    } finally {
      closeSync(fd);
    }
  });

  it('entering a closed fd gives SETNS_FAILED with errno EBADF', () => {
    expect(() => createSocketFd(4, { netns: 987_654 })).toThrow(
      expect.objectContaining({ code: 'SETNS_FAILED', errno: 'EBADF', syscall: 'setns' }),
    );
  });

  it('a host that is not an IP literal is INVALID_ARGUMENT', () => {
    expect(() => connectInNamespace({ host: 'example.com', port: 80 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('original destination of something that is not a socket gives ERRNO ENOTSOCK', () => {
    const fd = openSync('/proc/self/stat', 'r');
    try {
      expect(() => originalDestination(fd)).toThrow(
        expect.objectContaining({ code: 'ERRNO', errno: 'ENOTSOCK', syscall: 'getsockname' }),
      );
    } finally {
      closeSync(fd);
    }
  });
});

describe('error typing', () => {
  it('keeps a NetnsError (UNAVAILABLE) as it is and types what the addon throws', async () => {
    const { native } = await import('../src/errors.ts');
    const unavailable = new NetnsError('UNAVAILABLE', 'not built here');
    expect(() =>
      native('x', () => {
        throw unavailable;
      }),
    ).toThrow(unavailable);
    const raw = Object.assign(new Error('setns failed: Operation not permitted (EPERM)'), {
      code: 'SETNS_FAILED',
      errno: 'EPERM',
      syscall: 'setns',
    });
    expect(() =>
      native('socket in namespace fd 5', () => {
        throw raw;
      }),
    ).toThrow(
      expect.objectContaining({
        name: 'NetnsError',
        code: 'SETNS_FAILED',
        errno: 'EPERM',
        syscall: 'setns',
        message: 'socket in namespace fd 5: setns failed: Operation not permitted (EPERM)',
      }),
    );
  });
});
