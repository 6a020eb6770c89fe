"""scale_demo tables: hits, jobs, ticks

Revision ID: c7e2a91d5f10
Revises: b4ca700db5b3
Create Date: 2026-12-07 15:50:00
"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'c7e2a91d5f10'
down_revision = 'b4ca700db5b3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scale_demo_hits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scale_demo_hits'))
    )
    op.create_table('scale_demo_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scale_demo_jobs'))
    )
    op.create_table('scale_demo_ticks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scale_demo_ticks'))
    )


def downgrade():
    op.drop_table('scale_demo_ticks')
    op.drop_table('scale_demo_jobs')
    op.drop_table('scale_demo_hits')
