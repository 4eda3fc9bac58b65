import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeSession, renderWithProviders } from '../test/utils';
import { YourDataSection } from './YourDataSection';

const file = { filename: 'patron-data-20261206.csv', contentType: 'text/csv', content: 'section,shop,record,field,value\r\n' };

describe('YourDataSection', () => {
  let saved: Blob[];
  let clicked: string[];

  beforeEach(() => {
    saved = [];
    clicked = [];
    // jsdom has no object URLs; record what would be saved instead.
    const createObjectURL = vi.fn((blob: Blob) => {
      saved.push(blob);
      return 'blob:patron/1';
    });
    Object.assign(URL, { createObjectURL, revokeObjectURL: vi.fn() });
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this.download);
    });
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('downloads the export in the chosen format as a file', async () => {
    const { calls } = renderWithProviders(<YourDataSection />, {
      mocks: { MemberDataExport: { data: { memberDataExport: { file, errors: [] } } } },
    });
    await userEvent.click(screen.getByRole('button', { name: 'Download CSV' }));
    await waitFor(() => expect(clicked).toEqual(['patron-data-20261206.csv']));
    expect(calls.find((call) => call.name === 'MemberDataExport')?.variables).toEqual({ input: { format: 'CSV' } });
    expect(saved).toHaveLength(1);
    expect(saved[0].type).toBe('text/csv;charset=utf-8');
    expect(await saved[0].text()).toBe(file.content);
    expect(URL.revokeObjectURL).toHaveBeenCalledWith('blob:patron/1');
  });

  it('shows a refused export and saves nothing', async () => {
    renderWithProviders(<YourDataSection />, {
      mocks: {
        MemberDataExport: {
          data: { memberDataExport: { file: null, errors: [{ field: null, code: 'NOT_FOUND', message: 'No data' }] } },
        },
      },
    });
    await userEvent.click(screen.getByRole('button', { name: 'Download JSON' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('This login has no member data.');
    expect(clicked).toEqual([]);
  });

  it('erases only after the word is typed, then logs out', async () => {
    const logout = vi.fn(async () => {});
    const { calls } = renderWithProviders(<YourDataSection />, {
      session: fakeSession({ logout }),
      mocks: { ViewerErase: { data: { viewerErase: { erasure: { customerId: 'erased-7' }, errors: [] } } } },
    });
    await userEvent.click(screen.getByRole('button', { name: 'Erase my data' }));
    const dialog = await screen.findByTestId('erase-dialog');
    const confirm = within(dialog).getByRole('button', { name: 'Erase everything' });
    expect(confirm).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText('Type ERASE to confirm'), 'erase');
    expect(confirm).toBeDisabled();
    await userEvent.clear(within(dialog).getByLabelText('Type ERASE to confirm'));
    await userEvent.type(within(dialog).getByLabelText('Type ERASE to confirm'), 'ERASE');
    expect(confirm).toBeEnabled();
    await userEvent.click(confirm);
    await waitFor(() => expect(logout).toHaveBeenCalledTimes(1));
    expect(calls.filter((call) => call.name === 'ViewerErase').map((call) => call.variables)).toEqual([
      { input: { confirm: 'ERASE' } },
    ]);
  });

  it('keeps the member logged in when the erasure is refused', async () => {
    const logout = vi.fn(async () => {});
    renderWithProviders(<YourDataSection />, {
      session: fakeSession({ logout }),
      mocks: {
        ViewerErase: {
          data: { viewerErase: { erasure: null, errors: [{ field: null, code: 'ALREADY_ERASED', message: 'Erased' }] } },
        },
      },
    });
    await userEvent.click(screen.getByRole('button', { name: 'Erase my data' }));
    const dialog = await screen.findByTestId('erase-dialog');
    await userEvent.type(within(dialog).getByLabelText('Type ERASE to confirm'), 'ERASE');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Erase everything' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('Your data was erased already.');
    expect(logout).not.toHaveBeenCalled();
  });

  it('explains a refusal for a login that is also staff', async () => {
    renderWithProviders(<YourDataSection />, {
      mocks: {
        ViewerErase: {
          data: { viewerErase: { erasure: null, errors: [{ field: null, code: 'INVALID_INPUT', message: 'Staff login' }] } },
        },
      },
    });
    await userEvent.click(screen.getByRole('button', { name: 'Erase my data' }));
    const dialog = await screen.findByTestId('erase-dialog');
    await userEvent.type(within(dialog).getByLabelText('Type ERASE to confirm'), 'ERASE');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Erase everything' }));
    expect(await within(dialog).findByRole('alert')).toHaveTextContent('This login also works for a shop.');
  });
});
