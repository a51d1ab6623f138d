-- The services' role for the official postgres image (docker-compose.yml);
-- deploy/scripts/postgres.sh creates the same role for the local stack.
CREATE ROLE jsb LOGIN PASSWORD 'jsb';
GRANT CONNECT, TEMPORARY, CREATE ON DATABASE jsb TO jsb;
