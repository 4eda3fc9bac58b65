import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import TillPage from './TillPage';
import { quoteInput, refusalOf, splitCodes, emptyForm } from './checkoutState';
import { fakeSession, renderWithProviders, type Mocks } from '../test/utils';

const staff = fakeSession({
  isMember: false,
  staffShops: [
    {
      role: 'CASHIER',
      shop: { id: 'U2hvcDox', name: 'Demo Coffee', slug: 'demo-coffee', currency: 'USD', timezone: 'Europe/Berlin' },
    },
  ],
});

function renderCheckout(mocks: Mocks) {
  return renderWithProviders(<TillPage />, { mocks, session: staff, route: '/till/demo-coffee?mode=checkout', path: '/till/:shopSlug' });
}

const couponDiscount = { source: 'COUPON', promotionId: 'UHJvbW90aW9uOjI=', couponCode: 'DEMO-ONCE-1', label: 'Welcome 10%', amount: '1.00' };

function quoteFixture(overrides: Record<string, unknown> = {}) {
  return {
    id: 'Q2hlY2tvdXRRdW90ZTox',
    token: 'quote-token-1',
    currency: 'USD',
    expiresAt: '2026-11-21T10:15:00Z',
    customerId: 'demo-member-1',
    lines: [
      {
        lineNo: 1,
        productId: 'espresso',
        categorySlug: null,
        quantity: 2,
        unitPrice: '3.00',
        priceBefore: '6.00',
        discounts: [{ ...couponDiscount, amount: '0.60' }],
        discountTotal: '0.60',
        priceAfter: '5.40',
        pointsAmount: '0.00',
        amountDue: '5.40',
      },
      {
        lineNo: 2,
        productId: null,
        categorySlug: 'cakes',
        quantity: 1,
        unitPrice: '4.00',
        priceBefore: '4.00',
        discounts: [{ ...couponDiscount, amount: '0.40' }],
        discountTotal: '0.40',
        priceAfter: '3.60',
        pointsAmount: '0.00',
        amountDue: '3.60',
      },
    ],
    discounts: [couponDiscount],
    subtotal: '10.00',
    discountTotal: '1.00',
    pointsSpent: 0,
    pointsAmount: '0.00',
    totalDue: '9.00',
    pointsEarned: 9,
    notApplied: [
      { source: 'COUPON', promotionId: null, couponCode: 'NOPE', reason: 'COUPON_UNKNOWN', message: 'Unknown code.' },
    ],
    ...overrides,
  };
}

function commitFixture() {
  return {
    id: 'Q2hlY2tvdXRDb21taXQ6MQ==',
    orderId: 'A-1001',
    pointsSpent: 0,
    pointsAmount: '0.00',
    discountTotal: '1.00',
    totalDue: '9.00',
    pointsReturned: 0,
    committedAt: '2026-11-21T10:01:00Z',
    quote: { id: 'Q2hlY2tvdXRRdW90ZTox', currency: 'USD', pointsEarned: 9 },
  };
}

const quoted = (quote = quoteFixture()) => ({ data: { checkoutQuote: { quote, errors: [] } } });

async function fillTwoLines() {
  await userEvent.type(screen.getByLabelText('Customer id (optional)'), 'demo-member-1');
  await userEvent.type(screen.getByLabelText('Product id (line 1)'), 'espresso');
  const quantity = screen.getByLabelText('Quantity (line 1)');
  await userEvent.clear(quantity);
  await userEvent.type(quantity, '2');
  await userEvent.type(screen.getByLabelText('Unit price (line 1)'), '3');
  await userEvent.click(screen.getByRole('button', { name: 'Add a line' }));
  await userEvent.type(screen.getByLabelText('Category (line 2)'), 'cakes');
  await userEvent.type(screen.getByLabelText('Unit price (line 2)'), '4');
  await userEvent.type(screen.getByRole('combobox', { name: 'Coupon codes' }), 'DEMO-ONCE-1{enter}NOPE{enter}');
}

describe('CheckoutPanel', { timeout: 20_000 }, () => {
  it('quotes a basket with coupons, shows lines, discounts, totals and refusals, then commits', async () => {
    const { calls } = renderCheckout({
      CheckoutQuote: quoted(),
      CheckoutCommit: { data: { checkoutCommit: { commit: commitFixture(), replayed: false, errors: [] } } },
    });
    await fillTwoLines();
    await userEvent.click(screen.getByRole('button', { name: 'Quote' }));

    const quote = await screen.findByTestId('checkout-quote');
    expect(calls.find((c) => c.name === 'CheckoutQuote')?.variables).toEqual({
      input: {
        shopId: 'U2hvcDox',
        customerId: 'demo-member-1',
        lines: [
          { productId: 'espresso', categorySlug: null, quantity: 2, unitPrice: '3' },
          { productId: null, categorySlug: 'cakes', quantity: 1, unitPrice: '4' },
        ],
        couponCodes: ['DEMO-ONCE-1', 'NOPE'],
        pointsToSpend: 0,
        paymentType: '',
      },
    });
    const lines = within(quote).getAllByTestId('checkout-quote-line');
    expect(lines).toHaveLength(2);
    expect(within(lines[0]).getByTestId('line-before')).toHaveTextContent('$6.00');
    expect(within(lines[0]).getByText('Welcome 10% (DEMO-ONCE-1)')).toBeInTheDocument();
    expect(within(lines[0]).getByText('-$0.60')).toBeInTheDocument();
    expect(within(lines[0]).getByTestId('line-after')).toHaveTextContent('$5.40');
    expect(screen.getByTestId('total-subtotal')).toHaveTextContent('$10.00');
    expect(screen.getByTestId('total-discount')).toHaveTextContent('-$1.00');
    expect(screen.getByTestId('total-due')).toHaveTextContent('$9.00');
    expect(screen.getByTestId('total-earned')).toHaveTextContent('9 pts');
    const refused = screen.getByTestId('not-applied');
    expect(refused).toHaveAttribute('data-reason', 'COUPON_UNKNOWN');
    expect(refused).toHaveTextContent('NOPE: Unknown coupon code');

    await userEvent.type(screen.getByLabelText('Order number (optional)'), 'A-1001');
    await userEvent.click(screen.getByRole('button', { name: 'Commit' }));
    const done = await screen.findByTestId('checkout-commit');
    expect(done).toHaveTextContent('Checkout committed');
    expect(done).toHaveTextContent('The customer pays $9.00.');
    const commit = calls.find((c) => c.name === 'CheckoutCommit')?.variables as { input: Record<string, string> };
    expect(commit.input).toMatchObject({ quoteToken: 'quote-token-1', orderId: 'A-1001' });
    expect(commit.input.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    // A committed quote cannot be committed again.
    expect(screen.getByRole('button', { name: 'Commit' })).toBeDisabled();

    await userEvent.click(screen.getByRole('button', { name: 'Next customer' }));
    expect(screen.queryByTestId('checkout-quote')).toBeNull();
    expect(screen.getByLabelText('Customer id (optional)')).toHaveValue('');
  });

  it('keeps the idempotency key while the same commit is retried, and takes a new one for a new quote', async () => {
    let attempts = 0;
    const { calls } = renderCheckout({
      CheckoutQuote: quoted(),
      CheckoutCommit: () => {
        attempts += 1;
        return attempts === 1
          ? { networkError: true }
          : { data: { checkoutCommit: { commit: commitFixture(), replayed: true, errors: [] } } };
      },
    });
    await userEvent.click(screen.getByRole('radio', { name: 'Basket total' }));
    await userEvent.type(screen.getByLabelText('Amount of the basket'), '10');
    await userEvent.click(screen.getByRole('button', { name: 'Quote' }));
    await screen.findByTestId('checkout-quote');
    expect(calls.find((c) => c.name === 'CheckoutQuote')?.variables).toMatchObject({
      input: { customerId: null, lines: [{ quantity: 1, unitPrice: '10' }], couponCodes: [] },
    });

    await userEvent.click(screen.getByRole('button', { name: 'Commit' }));
    expect(await screen.findByTestId('checkout-commit-error')).toHaveTextContent('Cannot reach the server');
    await userEvent.click(screen.getByRole('button', { name: 'Commit' }));
    expect(await screen.findByTestId('checkout-commit')).toHaveTextContent('nothing was booked twice');
    const keys = calls.filter((c) => c.name === 'CheckoutCommit').map((c) => (c.variables.input as { idempotencyKey: string }).idempotencyKey);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toBe(keys[1]);

    // Quote again (the same basket): a new quote, a new commit, a new key.
    await userEvent.click(screen.getByRole('button', { name: 'Quote' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Commit' })).toBeEnabled());
    await userEvent.click(screen.getByRole('button', { name: 'Commit' }));
    await waitFor(() => expect(calls.filter((c) => c.name === 'CheckoutCommit')).toHaveLength(3));
    const third = (calls.filter((c) => c.name === 'CheckoutCommit')[2].variables.input as { idempotencyKey: string }).idempotencyKey;
    expect(third).not.toBe(keys[0]);
  });

  it.each([
    ['QUOTE_STALE', 'Quote again', 'Prices or promotions changed since this quote: quote again.'],
    ['QUOTE_EXPIRED', 'Quote again', 'This quote has expired: quote again.'],
    ['QUOTE_ALREADY_COMMITTED', 'Already committed', 'This quote was already committed.'],
  ])('explains a %s commit refusal and blocks committing that quote', async (code, title, text) => {
    renderCheckout({
      CheckoutQuote: quoted(),
      CheckoutCommit: { data: { checkoutCommit: { commit: null, replayed: false, errors: [{ field: null, code, message: code }] } } },
    });
    await userEvent.click(screen.getByRole('radio', { name: 'Basket total' }));
    await userEvent.type(screen.getByLabelText('Amount of the basket'), '10');
    await userEvent.click(screen.getByRole('button', { name: 'Quote' }));
    await screen.findByTestId('checkout-quote');
    await userEvent.click(screen.getByRole('button', { name: 'Commit' }));
    const refusal = await screen.findByTestId('checkout-commit-error');
    expect(refusal).toHaveAttribute('data-code', code);
    expect(refusal).toHaveTextContent(title);
    expect(refusal).toHaveTextContent(text);
    expect(screen.getByRole('button', { name: 'Commit' })).toBeDisabled();
  });

  it('shows the quote refusal of the server by its code', async () => {
    renderCheckout({
      CheckoutQuote: {
        data: { checkoutQuote: { quote: null, errors: [{ field: 'customerId', code: 'NOT_FOUND', message: 'No such customer.' }] } },
      },
    });
    await userEvent.click(screen.getByRole('radio', { name: 'Basket total' }));
    await userEvent.type(screen.getByLabelText('Amount of the basket'), '10');
    await userEvent.click(screen.getByRole('button', { name: 'Quote' }));
    expect(await screen.findByTestId('checkout-quote-error')).toHaveTextContent('Not found: check the customer id.');
    expect(screen.queryByRole('button', { name: 'Commit' })).toBeNull();
  });

  it('drops the quote when the basket changes, so that an old quote is never committed', async () => {
    renderCheckout({ CheckoutQuote: quoted() });
    await userEvent.click(screen.getByRole('radio', { name: 'Basket total' }));
    await userEvent.type(screen.getByLabelText('Amount of the basket'), '10');
    await userEvent.click(screen.getByRole('button', { name: 'Quote' }));
    await screen.findByTestId('checkout-quote');
    await userEvent.type(screen.getByLabelText('Points to spend'), '5');
    expect(screen.queryByTestId('checkout-quote')).toBeNull();
    expect(screen.queryByRole('button', { name: 'Commit' })).toBeNull();
  });

  it("shows an invalid input's field and the server's words under the translation", async () => {
    renderCheckout({
      CheckoutQuote: {
        data: {
          checkoutQuote: { quote: null, errors: [{ field: 'lines.0.unitPrice', code: 'INVALID_INPUT', message: 'At most 2 decimal places.' }] },
        },
      },
    });
    await userEvent.click(screen.getByRole('radio', { name: 'Basket total' }));
    await userEvent.type(screen.getByLabelText('Amount of the basket'), '10');
    await userEvent.click(screen.getByRole('button', { name: 'Quote' }));
    const alert = await screen.findByTestId('checkout-quote-error');
    expect(alert).toHaveTextContent('Check the basket: some input is not valid.');
    expect(alert).toHaveTextContent('lines.0.unitPrice: At most 2 decimal places.');
  });

  it('asks for prices before calling the server', async () => {
    const { calls } = renderCheckout({});
    await userEvent.click(screen.getByRole('button', { name: 'Quote' }));
    expect(await screen.findByText('Enter an amount of 0 or more')).toBeInTheDocument();
    expect(calls.some((c) => c.name === 'CheckoutQuote')).toBe(false);
  });

  it('shows money in the quote currency, in Persian digits in Persian', async () => {
    const { default: i18n } = await import('../i18n');
    await i18n.changeLanguage('fa');
    try {
      const points = { source: 'POINTS', promotionId: null, couponCode: null, label: '50 points', amount: '5000' };
      renderCheckout({
        CheckoutQuote: quoted(
          quoteFixture({
            currency: 'IRR',
            subtotal: '1500000',
            totalDue: '1500000',
            discounts: [couponDiscount, points],
            pointsSpent: 50,
            pointsAmount: '5000',
          }),
        ),
      });
      await userEvent.click(screen.getByRole('radio', { name: 'جمع سبد' }));
      await userEvent.type(screen.getByLabelText('مبلغ سبد'), '1500000');
      await userEvent.click(screen.getByRole('button', { name: 'محاسبه' }));
      const due = await screen.findByTestId('total-due');
      expect(due.textContent).toMatch(/۱٬۵۰۰٬۰۰۰/);
      expect(screen.getByTestId('not-applied')).toHaveTextContent('کد کوپن ناشناخته است');
      // The points' line is named in the page's language, not the server's English.
      expect(screen.getByTestId('checkout-discounts')).toHaveTextContent('پرداخت با امتیاز');
      expect(screen.getByTestId('checkout-discounts')).not.toHaveTextContent('50 points');
      expect(screen.getByTestId('total-points')).toHaveTextContent('امتیاز خرج‌شده (۵۰ امتیاز)');
    } finally {
      await i18n.changeLanguage('en');
    }
  });
});

describe('checkoutState', () => {
  it('splits scanned coupon codes on spaces, commas and semicolons', () => {
    expect(splitCodes(' A-1, B-2;C-3\nD-4 ')).toEqual(['A-1', 'B-2', 'C-3', 'D-4']);
  });

  it('builds one line of quantity 1 in the basket total mode, and refuses bad lines', () => {
    const form = { ...emptyForm(), mode: 'total' as const, total: '12.5', pointsToSpend: 200, couponCodes: ['X Y'] };
    expect(quoteInput('S', form).input).toEqual({
      shopId: 'S',
      customerId: null,
      lines: [{ quantity: 1, unitPrice: '12.5' }],
      couponCodes: ['X', 'Y'],
      pointsToSpend: 200,
      paymentType: '',
    });
    const bad = { ...emptyForm(), lines: [{ key: 'k', productId: '', categorySlug: '', quantity: 0, unitPrice: '-1' }] };
    expect(quoteInput('S', bad).errors).toEqual({ 'lines.0.quantity': 'checkout.errors.quantity', 'lines.0.unitPrice': 'checkout.errors.amount' });
  });

  it('tells which commit refusals need a new quote', () => {
    expect(refusalOf('QUOTE_STALE')).toBe('requote');
    expect(refusalOf('QUOTE_ALREADY_COMMITTED')).toBe('done');
    expect(refusalOf('RATE_LIMITED')).toBe('retry');
  });
});
