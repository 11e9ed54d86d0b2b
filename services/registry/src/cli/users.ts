// signetctl users create|list|disable|password
import type { Noun } from "./command.js";
import { usageError } from "./errors.js";
import { block, printJson, printList, when } from "./output.js";

interface UserView {
  id: string;
  username: string;
  display_name: string;
  status: string;
  created_at: string;
}
interface UserChanged {
  id: string;
  username: string;
  status: string;
  tokens_revoked: number;
  confirmed_pods: number;
}

const passwordStdin = {
  type: "boolean" as const,
  label: "--password-stdin",
  description: "read the password from standard input (otherwise you are prompted)",
};

export const users: Noun = {
  name: "users",
  summary: "people who log in: create, list, disable, password",
  commands: [
    {
      verb: "create",
      args: ["username"],
      summary: "create a user",
      options: {
        "display-name": {
          type: "string",
          required: true,
          label: "--display-name <name>",
          description: "the name shown to the user (required)",
        },
        "password-stdin": passwordStdin,
      },
      async run({ client, output, readSecret }, [username], values) {
        const displayName = values["display-name"] as string | undefined;
        if (!displayName?.trim()) throw usageError('users create needs --display-name "<name>"');
        const password = await readSecret(`Password for ${username}: `, {
          fromStdin: values["password-stdin"] === true,
          confirm: true,
        });
        const user = await client.request<UserView>("POST", "/users", {
          username,
          password,
          display_name: displayName,
        });
        if (output.json) return printJson(output, user);
        output.out(
          block([
            ["id", user.id],
            ["username", user.username],
            ["display name", user.display_name],
            ["status", user.status],
            ["created", when(user.created_at)],
          ]),
        );
      },
    },
    {
      verb: "list",
      args: [],
      summary: "list users",
      options: {},
      async run({ client, output }) {
        const res = await client.request<{ users: UserView[] }>("GET", "/users");
        printList(output, res, res.users, "(no users)", [
          { header: "USERNAME", value: (u) => u.username },
          { header: "DISPLAY NAME", value: (u) => u.display_name },
          { header: "STATUS", value: (u) => u.status },
          { header: "CREATED", value: (u) => when(u.created_at) },
          { header: "ID", value: (u) => u.id },
        ]);
      },
    },
    {
      verb: "disable",
      args: ["username"],
      summary: "disable a user; their tokens die on every data pod",
      options: {},
      async run({ client, output }, [username]) {
        const res = await client.request<UserChanged>(
          "POST",
          `/users/${encodeURIComponent(username!)}/disable`,
          {},
        );
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["username", res.username],
            ["status", res.status],
            ["tokens revoked", String(res.tokens_revoked)],
            ["confirmed pods", String(res.confirmed_pods)],
          ]),
        );
      },
    },
    {
      verb: "password",
      args: ["username"],
      summary: "set a new password; the user's tokens die on every data pod",
      options: { "password-stdin": passwordStdin },
      async run({ client, output, readSecret }, [username], values) {
        const password = await readSecret(`New password for ${username}: `, {
          fromStdin: values["password-stdin"] === true,
          confirm: true,
        });
        const res = await client.request<UserChanged>(
          "POST",
          `/users/${encodeURIComponent(username!)}/password`,
          { password },
        );
        if (output.json) return printJson(output, res);
        output.out(
          block([
            ["username", res.username],
            ["password", "changed"],
            ["tokens revoked", String(res.tokens_revoked)],
            ["confirmed pods", String(res.confirmed_pods)],
          ]),
        );
      },
    },
  ],
};
