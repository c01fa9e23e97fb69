// The account chunk, loaded only when one of its pages opens: the account page and
// the pages emailed links and sign-in providers lead to.
import type { Route } from "../../router";
import { AccountPage } from "./AccountPage";
import { AuthDonePage, ConfirmLinkPage, ForgotPasswordPage, ResetPasswordPage, VerifyEmailPage } from "./RecoveryPages";

export default function AccountPages({ route }: { route: Route }) {
  switch (route.page) {
    case "account":
      return <AccountPage linked={route.linked} error={route.error} />;
    case "forgot-password":
      return <ForgotPasswordPage />;
    case "reset-password":
      return <ResetPasswordPage />;
    case "verify-email":
      return <VerifyEmailPage />;
    case "confirm-link":
      return <ConfirmLinkPage />;
    case "auth-done":
      return <AuthDonePage />;
    default:
      return null;
  }
}
