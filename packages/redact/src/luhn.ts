/**
 * Whether a digit string is a payment card number: 13–19 digits, a major industry identifier
 * of 2–6 (Mastercard 2-series, Amex/Diners/JCB, Visa, Mastercard, Discover/UnionPay/Maestro),
 * and a valid Luhn check digit. The first-digit rule keeps epoch timestamps in milliseconds,
 * microseconds and nanoseconds (13, 16 and 19 digits, all starting with 1 until 2033) out.
 */
export function isCardNumber(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19 || !/^[2-6]\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}
