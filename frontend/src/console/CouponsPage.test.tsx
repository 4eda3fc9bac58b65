import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { batchFileName, CouponsPage, svgDataUrl } from './CouponsPage';
import { renderConsolePage, testShop } from './testing';

const WELCOME = 'UHJvbW90aW9uOjI=';
const FRIDAY = 'UHJvbW90aW9uOjE=';

const promotions = {
  data: {
    shop: {
      id: 'U2hvcDox',
      promotions: [
        { id: 'UHJvbW90aW9uOjM=', name: 'Old summer', kind: 'PERCENTAGE', active: false, requiresCoupon: true },
        { id: WELCOME, name: 'Welcome 10%', kind: 'PERCENTAGE', active: true, requiresCoupon: true },
        { id: FRIDAY, name: 'Black Friday', kind: 'CHEAPEST_FREE', active: true, requiresCoupon: true },
      ],
    },
  },
};

const coupon = (id: string, code: string, extra: Record<string, unknown> = {}) => ({
  id,
  code,
  customerId: null,
  maxUses: 1,
  maxUsesPerMember: null,
  uses: 0,
  validFrom: null,
  validUntil: null,
  channel: '',
  batchId: null,
  voided: false,
  createdAt: '2026-11-01T10:00:00Z',
  ...extra,
});

const page = (coupons: ReturnType<typeof coupon>[], hasNextPage: boolean, endCursor: string | null, totalCount = 3) => ({
  data: {
    shop: {
      id: 'U2hvcDox',
      coupons: {
        totalCount,
        pageInfo: { hasNextPage, endCursor },
        edges: coupons.map((node) => ({ cursor: `c-${node.id}`, node })),
      },
    },
  },
});

const firstPage = page(
  [
    coupon('Q291cG9uOjE=', 'DEMO-ONCE-1', { uses: 1, channel: 'flyer' }),
    coupon('Q291cG9uOjI=', 'VIP-ADA', { customerId: 'demo-member-1', maxUses: null, maxUsesPerMember: 2, validUntil: '2026-12-31T23:00:00Z' }),
  ],
  true,
  'cursor-2',
);
const secondPage = page([coupon('Q291cG9uOjM=', 'GONE-1', { voided: true })], false, 'cursor-3');

const batches = {
  data: {
    shop: {
      id: 'U2hvcDox',
      couponBatches: [
        {
          id: 'Q291cG9uQmF0Y2g6MQ==',
          name: 'Black Friday flyers',
          prefix: 'BF-',
          length: 8,
          alphabet: '23456789ABCDEFGHJKMNPQRSTVWXYZ',
          count: 50,
          channel: 'flyer',
          createdAt: '2026-11-01T10:00:00Z',
        },
      ],
    },
  },
};

const SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>';

const mocks = {
  ConsoleCouponPromotions: promotions,
  ConsoleCoupons: (v: Record<string, unknown>) => (v.after === 'cursor-2' ? secondPage : firstPage),
  ConsoleCouponBatches: batches,
};

const codes = () => screen.getAllByTestId('console-coupon').map((r) => r.getAttribute('data-code'));

describe('CouponsPage', { timeout: 20_000 }, () => {
  it("lists the first active promotion's coupons and pages through them by cursor", async () => {
    const { calls } = renderConsolePage(<CouponsPage />, { mocks });
    await waitFor(() => expect(codes()).toEqual(['DEMO-ONCE-1', 'VIP-ADA']));
    expect(calls.find((c) => c.name === 'ConsoleCoupons')?.variables).toEqual({
      slug: 'demo-coffee',
      promotionId: WELCOME,
      code: null,
      first: 20,
      after: null,
    });
    const [once, vip] = screen.getAllByTestId('console-coupon');
    expect(within(once).getByTestId('coupon-uses')).toHaveTextContent('1 / 1');
    expect(once).toHaveTextContent('flyer');
    expect(within(vip).getByTestId('coupon-uses')).toHaveTextContent('0 / ∞');
    expect(vip).toHaveTextContent('2 per member');
    expect(vip).toHaveTextContent('demo-member-1');
    expect(vip).toHaveTextContent('Until Dec 31, 2026');
    expect(screen.getByTestId('coupons-total')).toHaveTextContent('(3)');

    await userEvent.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() => expect(codes()).toEqual(['GONE-1']));
    expect(screen.getAllByTestId('console-coupon')[0]).toHaveAttribute('data-voided', 'true');
    expect(screen.queryByRole('button', { name: 'Void GONE-1' })).toBeNull();
    expect(screen.getByText('Page 2')).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Previous' }));
    await waitFor(() => expect(codes()).toEqual(['DEMO-ONCE-1', 'VIP-ADA']));
  });

  it('lists the coupons of another promotion when picked', async () => {
    const { calls } = renderConsolePage(<CouponsPage />, { mocks });
    await waitFor(() => expect(codes()).toHaveLength(2));
    await userEvent.click(screen.getByRole('combobox', { name: 'Promotion' }));
    // jsdom never finishes the dropdown's transition, so its options count as hidden.
    await userEvent.click(await screen.findByRole('option', { name: 'Black Friday', hidden: true }));
    await waitFor(() => expect(calls.filter((c) => c.name === 'ConsoleCoupons').at(-1)?.variables).toMatchObject({ promotionId: FRIDAY }));
    expect(calls.filter((c) => c.name === 'ConsoleCouponBatches').at(-1)?.variables).toEqual({ slug: 'demo-coffee', promotionId: FRIDAY });
  });

  it('creates one coupon', async () => {
    const { calls } = renderConsolePage(<CouponsPage />, {
      mocks: {
        ...mocks,
        ConsoleCouponCreate: { data: { couponCreate: { coupon: coupon('Q291cG9uOjk=', 'HELLO-ADA'), errors: [] } } },
      },
    });
    await waitFor(() => expect(codes()).toHaveLength(2));
    await userEvent.click(screen.getByRole('button', { name: 'New coupon' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Code'), 'hello-ada');
    await userEvent.type(within(dialog).getByLabelText('Personal for customer id'), 'demo-member-1');
    await userEvent.clear(within(dialog).getByLabelText('Max uses'));
    await userEvent.type(within(dialog).getByLabelText('Channel'), 'email');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create coupon' }));
    await waitFor(() => expect(calls.some((c) => c.name === 'ConsoleCouponCreate')).toBe(true));
    expect(calls.find((c) => c.name === 'ConsoleCouponCreate')?.variables).toEqual({
      input: {
        promotionId: WELCOME,
        code: 'hello-ada',
        customerId: 'demo-member-1',
        maxUses: null,
        maxUsesPerMember: null,
        validFrom: null,
        validUntil: null,
        channel: 'email',
      },
    });
    expect(await screen.findByText('Coupon HELLO-ADA created')).toBeInTheDocument();
  });

  it('shows a taken code under the code field', async () => {
    renderConsolePage(<CouponsPage />, {
      mocks: {
        ...mocks,
        ConsoleCouponCreate: {
          data: { couponCreate: { coupon: null, errors: [{ field: 'code', code: 'CODE_TAKEN', message: 'This code is taken.' }] } },
        },
      },
    });
    await waitFor(() => expect(codes()).toHaveLength(2));
    await userEvent.click(screen.getByRole('button', { name: 'New coupon' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Code'), 'DEMO-ONCE-1');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create coupon' }));
    expect(await within(dialog).findByText('This code is taken.')).toBeInTheDocument();
  });

  it('generates a batch of coupons', async () => {
    const { calls } = renderConsolePage(<CouponsPage />, {
      mocks: {
        ...mocks,
        ConsoleCouponBatchGenerate: {
          data: { couponBatchGenerate: { batch: { id: 'Q291cG9uQmF0Y2g6Mg==', name: 'Newsletter', count: 500 }, errors: [] } },
        },
      },
    });
    await waitFor(() => expect(codes()).toHaveLength(2));
    await userEvent.click(screen.getByRole('button', { name: 'Generate batch' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByRole('textbox', { name: /^Batch name/ }), 'Newsletter');
    const count = within(dialog).getByLabelText(/^Number of codes/);
    await userEvent.clear(count);
    await userEvent.type(count, '500');
    await userEvent.type(within(dialog).getByLabelText('Prefix'), 'NL-');
    await userEvent.type(within(dialog).getByLabelText('Max uses per member'), '1');
    await userEvent.type(within(dialog).getByLabelText('Channel'), 'newsletter');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Generate' }));
    await waitFor(() => expect(calls.some((c) => c.name === 'ConsoleCouponBatchGenerate')).toBe(true));
    expect(calls.find((c) => c.name === 'ConsoleCouponBatchGenerate')?.variables).toEqual({
      input: {
        promotionId: WELCOME,
        name: 'Newsletter',
        count: 500,
        prefix: 'NL-',
        length: 8,
        alphabet: '23456789ABCDEFGHJKMNPQRSTVWXYZ',
        maxUses: 1,
        maxUsesPerMember: 1,
        validFrom: null,
        validUntil: null,
        channel: 'newsletter',
      },
    });
    expect(await screen.findByText('500 coupons generated in Newsletter')).toBeInTheDocument();
  });

  it("exports a batch's CSV as a file made in the browser", async () => {
    const csv = 'code,customer_id,max_uses\nBF-AAAA2222,,1\n';
    const created: Blob[] = [];
    const createObjectURL = vi.fn((blob: Blob) => {
      created.push(blob);
      return 'blob:batch';
    });
    const revokeObjectURL = vi.fn();
    Object.assign(URL, { createObjectURL, revokeObjectURL });
    const downloads: { href: string; download: string }[] = [];
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      downloads.push({ href: this.getAttribute('href') ?? '', download: this.download });
    });
    try {
      const { calls } = renderConsolePage(<CouponsPage />, {
        mocks: {
          ...mocks,
          ConsoleCouponBatchCsv: { data: { shop: { id: 'U2hvcDox', couponBatches: [{ id: 'Q291cG9uQmF0Y2g6MQ==', csv }] } } },
        },
      });
      const batch = await screen.findByTestId('coupon-batch');
      expect(batch).toHaveTextContent('50 codes · prefix BF- · 8 characters');
      await userEvent.click(within(batch).getByRole('button', { name: 'Export CSV of Black Friday flyers' }));
      await waitFor(() => expect(downloads).toEqual([{ href: 'blob:batch', download: 'black-friday-flyers.csv' }]));
      expect(await created[0].text()).toBe(csv);
      expect(created[0].type).toBe('text/csv;charset=utf-8');
      expect(calls.find((c) => c.name === 'ConsoleCouponBatchCsv')?.variables).toEqual({ slug: 'demo-coffee', promotionId: WELCOME });
    } finally {
      click.mockRestore();
    }
  });

  it('shows a coupon QR code as an image, never as inline markup', async () => {
    const { calls } = renderConsolePage(<CouponsPage />, {
      mocks: {
        ...mocks,
        ConsoleCouponQr: {
          data: { shop: { id: 'U2hvcDox', coupons: { edges: [{ node: { id: 'Q291cG9uOjE=', code: 'DEMO-ONCE-1', qrSvg: SVG } }] } } },
        },
      },
    });
    await waitFor(() => expect(codes()).toHaveLength(2));
    await userEvent.click(screen.getByRole('button', { name: 'QR code of DEMO-ONCE-1' }));
    const image = await screen.findByRole('img', { name: 'QR code of coupon DEMO-ONCE-1' });
    expect(image).toHaveAttribute('src', svgDataUrl(SVG));
    expect(image.getAttribute('src')).toMatch(/^data:image\/svg\+xml;charset=utf-8,%3Csvg/);
    expect(document.querySelector('[role="dialog"] rect')).toBeNull();
    expect(screen.getByRole('button', { name: 'Print' })).toBeInTheDocument();
    expect(calls.find((c) => c.name === 'ConsoleCouponQr')?.variables).toEqual({ slug: 'demo-coffee', promotionId: WELCOME, code: 'DEMO-ONCE-1' });
  });

  it('voids a coupon after confirmation', async () => {
    const { calls } = renderConsolePage(<CouponsPage />, {
      mocks: {
        ...mocks,
        ConsoleCouponVoid: { data: { couponVoid: { coupon: { id: 'Q291cG9uOjE=', voided: true }, errors: [] } } },
      },
    });
    await waitFor(() => expect(codes()).toHaveLength(2));
    await userEvent.click(screen.getByRole('button', { name: 'Void DEMO-ONCE-1' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('DEMO-ONCE-1 can no longer be used.');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Void' }));
    await waitFor(() => expect(calls.find((c) => c.name === 'ConsoleCouponVoid')?.variables).toEqual({ couponId: 'Q291cG9uOjE=' }));
    expect(await screen.findByText('Coupon DEMO-ONCE-1 voided')).toBeInTheDocument();
  });

  it('says when the shop has no promotion to attach coupons to', async () => {
    renderConsolePage(<CouponsPage />, { mocks: { ConsoleCouponPromotions: { data: { shop: { id: 'U2hvcDox', promotions: [] } } } } });
    expect(await screen.findByText('No promotions yet')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'New coupon' })).toBeDisabled();
  });

  it('refuses cashiers', () => {
    renderConsolePage(<CouponsPage />, { shop: testShop({ role: 'CASHIER', canEdit: false }) });
    expect(screen.getByTestId('console-forbidden')).toBeInTheDocument();
  });

  it('adds the SVG namespace that markup made for inlining lacks, and only then', () => {
    const inline = '<svg width="116" height="116" class="segno"><path d="M4 4.5h7"/></svg>';
    expect(decodeURIComponent(svgDataUrl(inline).split(',')[1])).toBe(
      '<svg xmlns="http://www.w3.org/2000/svg" width="116" height="116" class="segno"><path d="M4 4.5h7"/></svg>',
    );
    expect(decodeURIComponent(svgDataUrl(SVG).split(',')[1])).toBe(SVG);
  });

  it('names export files after the batch', () => {
    expect(batchFileName('Black Friday / flyers')).toBe('black-friday-flyers.csv');
    expect(batchFileName('تخفیف ۱')).toBe('تخفیف-۱.csv');
    expect(batchFileName('***')).toBe('coupons.csv');
  });
});
